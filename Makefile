# SlideStream: `make demo` runs the job on the embedded default, `make test` runs every test.
# Both install what is missing first (tools/setup.sh).
SHELL := /bin/bash
MVN ?= mvn -B -ntp

.PHONY: demo test setup build clean

setup:
	@tools/setup.sh

build: setup
	$(MVN) -q -DskipTests install

demo: build
	bin/slidestream demo $(DEMO_ARGS)

test: setup
	$(MVN) verify

clean:
	$(MVN) -q clean
