#!/usr/bin/env bash
# Idempotent set-up from a bare clone: a virtualenv in .venv, llama-cpp-python built once per machine and kept
# in a wheel cache, then this package. `scripts/setup.sh dev` adds the test tools and Chromium for report tests.
set -euo pipefail
cd "$(dirname "$0")/.."

LCP_VERSION=0.3.36
WHEELS="${LLAMACOMPARE_WHEELS:-$HOME/.cache/llamacompare-wheels}"
PY="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi

# llama-cpp-python compiles llama.cpp (10-15 minutes on 2 cores). Build it once with a portable x86-64 instruction
# set: a -march=native build picks AMX on recent Xeons and crashes there, and would not run on an older CPU.
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LCP_VERSION"-*.whl >/dev/null 2>&1; then
  echo "setup: building llama-cpp-python $LCP_VERSION once for this machine (10-15 minutes)..."
  if [ "$(uname -m)" = "x86_64" ]; then
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  fi
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/pip wheel -q --no-deps --no-cache-dir -w "$WHEELS" \
    "llama-cpp-python==$LCP_VERSION"
fi
wheel=$(ls "$WHEELS"/llama_cpp_python-"$LCP_VERSION"-*.whl | head -n 1)
stamp=.venv/.llama-cpp-wheel
if [ "$(cat "$stamp" 2>/dev/null)" != "$(basename "$wheel") $(stat -c %Y "$wheel")" ]; then
  .venv/bin/pip install -q --no-deps --force-reinstall "$wheel"
  echo "$(basename "$wheel") $(stat -c %Y "$wheel")" > "$stamp"
fi

extras=""
[ "${1:-}" = "dev" ] && extras="[dev]"
.venv/bin/pip install -q --find-links "$WHEELS" -e ".$extras"

if [ "${1:-}" = "dev" ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium for the report tests..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
