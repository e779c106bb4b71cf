#!/bin/bash
# Packs the read benchmark (io.slidestream.bench.ReadBenchmark: OpenSlide and the direct reader,
# read and read + preprocess, per-core CPU per tile) into one tarball that runs on a Linux x86-64
# machine with neither a JDK nor Maven nor OpenSlide, e.g. a GPU node: a jlink'd Java 17 runtime,
# the bench and operators jars and the few jars they need, Debian's OpenSlide and libjpeg-turbo with their
# shared libraries (glibc too, used only when the machine's is older), and a slide.
#
#   tools/read-bench-bundle.sh SLIDE OUT.tar.xz      (after mvn install -DskipTests)
#   tar xJf OUT.tar.xz -C /tmp/b && /tmp/b/run.sh 3 8 256 512     (PASSES THREADS PX...)
set -euo pipefail
slide=$(readlink -f "$1")
out=$(readlink -f "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/lib" "$work/native" "$work/glibc"
(cd "$root" && mvn -q -o dependency:build-classpath -pl operators -Dmdep.outputFile="$work/cp.txt")
cp "$root/operators/target/slidestream-operators-0.1.0-SNAPSHOT.jar" \
  "$root/bench/target/slidestream-bench-0.1.0-SNAPSHOT.jar" "$work/lib/"
# The classes the benchmark touches: the schemas' error codes (Avro enums, Jackson), JNA, Flink's
# configuration options (SlideReader's key), and ONNX Runtime's float16 conversion only (its full
# jar carries every platform's natives).
for jar in $(tr ':' '\n' < "$work/cp.txt" | grep -E \
  '/(slidestream-schemas|avro|jna|jackson-(core|databind|annotations)|slf4j-api|flink-core|flink-core-api|flink-annotations|commons-lang3|flink-shaded-guava)-[0-9]'); do
  cp "$jar" "$work/lib/"
done
ort=$(tr ':' '\n' < "$work/cp.txt" | grep '/onnxruntime-[0-9]')
(cd "$work" && unzip -q "$ort" 'ai/onnxruntime/platform/*' && jar cf lib/ort-platform.jar ai && rm -rf ai)

jdk=/usr/lib/jvm/java-17-openjdk-amd64
"$jdk/bin/jlink" --add-modules java.base,java.desktop,java.management,java.logging,jdk.unsupported,java.sql,java.xml,java.naming \
  --strip-debug --no-header-files --no-man-pages --output "$work/jre"

lib=/usr/lib/x86_64-linux-gnu
for so in $(ldd "$lib/libopenslide.so.0" "$work/jre/lib/server/libjvm.so" | awk '$3 ~ /^\// {print $3}' | sort -u); do
  case $(basename "$so") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*) cp -L "$so" "$work/glibc/" ;;
    *) cp -L "$so" "$work/native/" ;;
  esac
done
cp -L /lib64/ld-linux-x86-64.so.2 "$work/glibc/"
cp -L "$lib/libopenslide.so.0" "$lib/libturbojpeg.so.0" "$work/native/"
ln -s libturbojpeg.so.0 "$work/native/libturbojpeg.so"
ln -s libopenslide.so.0 "$work/native/libopenslide.so"
cp "$slide" "$work/$(basename "$slide")"
cat > "$work/run.sh" <<RUN
#!/bin/bash
# PASSES THREADS PX...; the machine's glibc first, the carried one when that fails.
cd "\$(dirname "\$0")"
echo "cpu: \$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
cmd=(jre/bin/java -cp "lib/*" io.slidestream.bench.ReadBenchmark "$(basename "$slide")" "\$@")
LD_LIBRARY_PATH=native "\${cmd[@]}" > out.txt 2>&1 && { grep -v SLF4J out.txt; exit 0; }
grep -v SLF4J out.txt; echo "retrying with the carried glibc"
glibc/ld-linux-x86-64.so.2 --library-path native:glibc:jre/lib:jre/lib/server "\${cmd[@]}" 2>&1 | grep -v SLF4J
RUN
chmod +x "$work/run.sh"
rm "$work/cp.txt"
tar cf - -C "$work" . | xz -9 -T0 > "$out"
ls -la "$out"
