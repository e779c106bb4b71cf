# SlideStream: `make demo` runs the job on the embedded default, `make test` runs every test.
# Both install what is missing first (tools/setup.sh).
SHELL := /bin/bash
MVN ?= mvn -B -ntp

.PHONY: demo test setup build clean fidelity

setup:
	@tools/setup.sh

build: setup
	$(MVN) -q -DskipTests install

demo: build
	bin/slidestream demo $(DEMO_ARGS)

test: setup
	$(MVN) verify

# A seeded random-weight GPFM at full size (1.2 GB, exported once into models/), then SlideStream's
# embeddings of real tiles against PyTorch's, tile by tile (cosine >= 0.9999).
GPFM_RANDOM := models/gpfm-random.onnx
fidelity: build
	@test -f $(GPFM_RANDOM) || /usr/bin/python3 tools/export_onnx.py --random-weights --seed 0 --out $(GPFM_RANDOM)
	/usr/bin/python3 tools/fidelity.py --model $(GPFM_RANDOM) \
	  --tiles ../shared/fixtures/gpfm-tiny/tiles/*.png --slide .cache/slides/CMU-1-Small-Region.tiff

clean:
	$(MVN) -q clean
