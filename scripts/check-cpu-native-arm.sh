#!/usr/bin/env bash
# The native CPU library on Arm: cross-compiles native/cpu for aarch64 (the portable code only: the
# *_avx512 / *_avx2 files are x86-64), links the N-API library (its Node symbols stay undefined, as
# for any addon) and a stand-alone self-test (native/cpu/tools/selftest.cc), and runs the self-test
# under qemu-aarch64. There is no Arm Node binary here, so the vitest suite cannot run on Arm.
#   needs: g++-aarch64-linux-gnu, qemu-user (Debian: apt-get install g++-aarch64-linux-gnu qemu-user)
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=${CXX_AARCH64:-aarch64-linux-gnu-g++}
command -v "$CXX" >/dev/null || { echo "check-cpu-native-arm: $CXX not found (apt-get install g++-aarch64-linux-gnu)"; exit 2; }
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
FLAGS=(-std=c++17 -O3 -fPIC -Wall -Wno-unused-function -fno-math-errno -fno-trapping-math -DPB_CPU=1 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS
       -DNODE_GYP_MODULE_NAME=pixelbytes_cpu -Inode_modules/node-addon-api -Inode_modules/node-api-headers/include -Inative/src)
objs=()
for f in native/cpu/*.cc native/src/registry.cc; do
  case "$f" in *_avx512.cc|*_avx2.cc) continue ;; esac
  o="$OUT/$(basename "$f" .cc).o"
  "$CXX" "${FLAGS[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
"$CXX" -shared -o "$OUT/pixelbytes_cpu.node" "${objs[@]}" -pthread
echo "aarch64 library: $OUT/pixelbytes_cpu.node ($(stat -c %s "$OUT/pixelbytes_cpu.node") bytes)"
kernels=()
for o in "${objs[@]}"; do [[ "$o" == */binding.o ]] || kernels+=("$o"); done
"$CXX" "${FLAGS[@]}" native/cpu/tools/selftest.cc "${kernels[@]}" -o "$OUT/selftest" -pthread -static
if command -v qemu-aarch64 >/dev/null; then
  qemu-aarch64 "$OUT/selftest"
else
  echo "check-cpu-native-arm: qemu-aarch64 not found: the self-test was built ($OUT/selftest) but not run"
fi
