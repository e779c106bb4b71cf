#!/usr/bin/env bash
# Installs what SlideStream needs on a Debian/Ubuntu machine, or prints the exact command to run.
# Idempotent and quiet when everything is already there. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ldconfig -p 2>/dev/null | grep -q 'libopenslide\.so\.0' || missing+=(libopenslide0)
# libjpeg-turbo's TurboJPEG API: the direct JPEG tile reader (slides.reader=auto).
ldconfig -p 2>/dev/null | grep -q 'libturbojpeg\.so\.0' || missing+=(libturbojpeg0)
command -v java >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v npm >/dev/null || missing+=(npm)
command -v xz >/dev/null || missing+=(xz-utils)
# The GPFM export tool runs on the system Python with Debian's torch and onnx (its tests are part
# of make test); OpenBLAS makes torch's matrix products about 20x faster than the reference BLAS.
/usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
/usr/bin/python3 -c 'import onnx' 2>/dev/null || missing+=(python3-onnx)
# `heads train` trains on TRIDENT .h5 bags; its tests read the bags back with h5py.
/usr/bin/python3 -c 'import h5py' 2>/dev/null || missing+=(python3-h5py)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
# The dashboard's browser tests drive Debian's Chromium through its WebDriver.
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# Milvus Lite (the embedded vector store) and OpenSeadragon (the dashboard's viewer) come from npm,
# pinned by package-lock.json.
if [ -f package-lock.json ] && { [ ! -x node_modules/@lyyyuna/milvus-lite-linux-x64/lib/milvus ] \
    || [ ! -f node_modules/openseadragon/build/openseadragon/openseadragon.min.js ]; }; then
  echo "setup: installing Milvus Lite and OpenSeadragon from npm (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The real H&E slide CMU-1-Small-Region, from Debian's openslide source package.
if [ ! -s .cache/slides/CMU-1-Small-Region.tiff ]; then
  fetch=../shared/fixtures/slides/fetch-cmu1.sh
  if [ -x "$fetch" ]; then
    echo "setup: downloading CMU-1-Small-Region from Debian's openslide source package"
    bash "$fetch" .cache/slides >/dev/null
  else
    echo "setup: $fetch not found; tests that need CMU-1-Small-Region will fail" >&2
  fi
fi
