#!/usr/bin/env bash
# The GPU check (docs/gpu.md), on a machine with an NVIDIA GPU that reaches no network, from the repository root
# with .gpu/ beside it (npm run gpu:prepare, carried there):
#
#   bash deploy/gpu/run.sh [cuda|vulkan|cpu]        (default cuda; cpu rehearses the whole path on any machine)
#
# Unpacks Node.js, node_modules and llama.cpp's source from .gpu/, builds llama.cpp for the card with the
# machine's own compiler through node-llama-cpp (as `npx node-llama-cpp source build --gpu cuda` does on a
# connected machine: for the card at hand only), then runs the check on that build and on the CPU. Logs go to $OUT
# when it is set (the device tool's output folder), else to .gpu/out.
set -euo pipefail

device=${1:-cuda}
case "$device" in cuda | vulkan) build_gpu=$device ;; cpu) build_gpu=false ;; *) echo "run.sh: device must be cuda, vulkan or cpu" >&2; exit 2 ;; esac
[ -d .gpu/app ] || { echo "run.sh: no .gpu/ here: run npm run gpu:prepare where the project is installed, and carry .gpu" >&2; exit 2; }
out=${OUT:-$PWD/.gpu/out}
mkdir -p "$out"
runtime=$(mktemp -d)

tar -xJf .gpu/node.tar.xz -C "$runtime"
export PATH="$runtime/node/bin:$PATH"
# CUDA's compiler where images usually keep it, if the PATH does not name it.
if ! command -v nvcc > /dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="$PATH:/usr/local/cuda/bin"; fi
tar -xJf .gpu/modules.tar.xz
llama=node_modules/node-llama-cpp/llama
mkdir -p "$llama/llama.cpp"
tar -xJf .gpu/llama.cpp.tar.xz -C "$llama/llama.cpp"
# node-llama-cpp builds the source it cloned, which it recognises by a .git folder beside the tree.
mkdir -p "$llama/llama.cpp/.git"
# cmake-js takes Node's headers from its cache instead of downloading them.
headers="$HOME/.cmake-js/node-x64/$(node -p process.version)"
mkdir -p "$headers"
ln -sfn "$runtime/node/include" "$headers/include"

{
  echo "node $(node --version), npm $(npm --version), $(cmake --version | head -1), $(nproc) CPU threads"
  if command -v nvcc > /dev/null; then nvcc --version | tail -2; fi
  if command -v nvidia-smi > /dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; fi
} 2>&1 | tee "$out/machine.txt"

# Fewer kernels for a first proof when the whole build does not fit one device call (10 minutes): no FlashAttention
# kernels (llama.cpp then computes attention without them). Said in the output, so no figure passes for the full build.
if [ "${ATOMIC_GPU_QUICK_BUILD:-}" = 1 ]; then
  export NODE_LLAMA_CPP_CMAKE_OPTION_GGML_CUDA_FA=OFF
  echo "quick build: llama.cpp's FlashAttention CUDA kernels left out" | tee -a "$out/machine.txt"
fi

started=$(date +%s)
node node_modules/node-llama-cpp/dist/cli/cli.js source build --gpu "$build_gpu" --noUsageExample > "$out/build.log" 2>&1 &
build=$!
# Where the build is, once a minute: a call cut off at its limit still shows how far it got.
reported=0
while kill -0 "$build" 2> /dev/null; do
  sleep 2
  elapsed=$(($(date +%s) - started))
  if [ $((elapsed - reported)) -ge 60 ]; then
    reported=$elapsed
    echo "  ${elapsed} s: $(grep -o '^\[[0-9]*/[0-9]*\]' "$out/build.log" | tail -1)"
  fi
done
wait "$build" || { tail -40 "$out/build.log"; echo "run.sh: the llama.cpp build failed (whole log: build.log)" >&2; exit 1; }
echo "llama.cpp built for $device in $(($(date +%s) - started)) s"

compare=()
[ "$device" != cpu ] && compare=(--compare cpu)
node .gpu/app/test/gpu/check.js --gpu "$device" ${compare[@]+"${compare[@]}"} 2>&1 | tee "$out/check.log"
