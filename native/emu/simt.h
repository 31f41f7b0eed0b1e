// SIMT emulator: lets the CUDA kernel sources in native/kernels/*.cu compile with a host C++
// compiler (g++ -x c++) into the `cuda-emu` device, so every kernel is checked against its CPU
// oracle on machines without a GPU.
//
// Model (what a launch does here):
//   * Blocks run one after another on the calling host thread (grid order: x fastest).
//   * The threads of one block are fibers (user-mode stacks, cooperative switching). A fiber runs
//     until it reaches a barrier (__syncthreads, __syncwarp, a warp shuffle or vote) or returns;
//     then the next runnable fiber of the block runs. Fibers run in threadIdx order (x fastest).
//   * __syncthreads() releases when every thread of the block has arrived. A thread that returns
//     while others wait at a barrier (or that never reaches a barrier the others reach), or
//     threads waiting at different __syncthreads() call sites, are reported as errors — exactly
//     the bug class that a missing or divergent barrier is on real hardware (undefined behaviour
//     there). Deadlocks (e.g. a warp shuffle waiting for a lane that sits at __syncthreads) too.
//   * Warp = 32 consecutive threads (linear thread id / 32). Shuffles and votes are exchanges
//     through a per-warp slot table behind a warp barrier; the participating lanes are the lanes
//     of `mask` that exist in the (possibly partial) last warp. Reading a lane that does not take
//     part is an error.
//   * __shared__ is `static thread_local`: one host thread runs one block at a time, so every
//     fiber of the block sees the same variable, as threads of a block see the same shared memory.
//     Its contents persist from block to block (like stale shared memory on a GPU; never rely on
//     it). Dynamic shared memory (PB_EXTERN_SHARED) is a per-launch buffer filled with 0xFF bytes
//     (NaN as float) at the start of every block, so reading it before writing shows up.
//   * Atomics are plain read-modify-write: fibers switch only at barriers, so nothing can
//     interleave inside one.
//   * Launch limits are checked like the CUDA runtime does (block ≤ 1024 threads, block.z ≤ 64,
//     grid.y/z ≤ 65535, dynamic shared memory ≤ 48 KiB, no empty grid) and reported with the
//     CUDA error names.
// Limits: no memory protection (an out-of-bounds access is host undefined behaviour), no memory
// model beyond sequential consistency (races other than missing barriers are not found), no
// streams/concurrency (launches are synchronous), no textures/constant memory, no cooperative
// groups, no printf formatting differences. Fibers use a small stack (64 KiB by default,
// PIXELBYTES_EMU_STACK_KB) with a guard page.
#pragma once
#ifdef __CUDACC__
#error "simt.h is the host emulation of CUDA; nvcc must not include it"
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- CUDA vector types and the launch geometry -------------------------------------------------
struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

struct CUstream_st;
typedef CUstream_st* cudaStream_t;

// Set by the scheduler: blockIdx/blockDim/gridDim per block, threadIdx at every switch to a fiber.
extern __thread uint3 threadIdx;
extern __thread uint3 blockIdx;
extern __thread dim3 blockDim;
extern __thread dim3 gridDim;
constexpr int warpSize = 32;

// ---- qualifiers --------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __align__(n) alignas(n)
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define __constant__ static const

// ---- device math: the host libm does the work (IEEE; CUDA's are within 1-2 ulp) ----------------
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_rn(float x) { return (int)rintf(x); }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline float __uint_as_float(unsigned i) { float x; std::memcpy(&x, &i, 4); return x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }
template <typename T> inline T __ldg(const T* p) { return *p; }

namespace pb_emu {

/** An error of the emulator or of the emulated program; `code` is the CUDA error it stands for. */
class Error : public std::runtime_error {
 public:
  Error(const std::string& code, const std::string& what) : std::runtime_error(what), code_(code) {}
  const std::string& code() const { return code_; }
 private:
  std::string code_;
};

// ---- barriers, warp exchanges (simt.cc) ---------------------------------------------------------
void syncthreads(const char* file, int line);
int syncthreads_count(int pred, const char* file, int line);
enum class WarpOp : int { Sync, ShflIdx, ShflUp, ShflDown, ShflXor, Ballot, Any, All };
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int param, int width, const char* file, int line);
unsigned lane_id();
unsigned active_mask();

template <typename T>
inline T shfl(WarpOp op, unsigned mask, T v, int param, int width, const char* file, int line) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type larger than 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  uint64_t r = warp_exchange(op, mask, bits, param, width, file, line);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

/** Dynamic shared memory of the running block (PB_EXTERN_SHARED). */
void* dynamic_shared();

// ---- launches -----------------------------------------------------------------------------------
using ThreadBody = void (*)(void* ctx);
/** Runs body(ctx) for every thread of every block; throws pb_emu::Error on misuse. */
void run_grid(const char* kernel, dim3 grid, dim3 block, size_t dynamic_smem, ThreadBody body, void* ctx);

template <typename... P>
struct Launch {
  void (*fn)(P...);
  const char* name;
  dim3 grid, block;
  size_t smem;
  template <typename... A>
  void operator()(A&&... args) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong number of arguments");
    std::tuple<typename std::decay<P>::type...> params(static_cast<P>(std::forward<A>(args))...);
    struct Ctx { void (*fn)(P...); decltype(params)* p; } ctx{fn, &params};
    run_grid(name, grid, block, smem, [](void* c) {
      Ctx* k = static_cast<Ctx*>(c);
      std::apply(k->fn, *k->p);
    }, &ctx);
  }
};
template <typename... P>
inline Launch<P...> make_launch(void (*fn)(P...), const char* name, dim3 grid, dim3 block, size_t smem) {
  return Launch<P...>{fn, name, grid, block, smem};
}

}  // namespace pb_emu

// ---- the CUDA device API the kernels use --------------------------------------------------------
// Functions (not macros) with the caller's file:line as hidden default arguments, so that a
// barrier error can say where the threads are waiting.
#define PB_EMU_SITE const char* pb_file_ = __builtin_FILE(), int pb_line_ = __builtin_LINE()
inline void __syncthreads(PB_EMU_SITE) { ::pb_emu::syncthreads(pb_file_, pb_line_); }
inline int __syncthreads_count(int p, PB_EMU_SITE) { return ::pb_emu::syncthreads_count(p != 0, pb_file_, pb_line_); }
inline int __syncthreads_or(int p, PB_EMU_SITE) { return ::pb_emu::syncthreads_count(p != 0, pb_file_, pb_line_) != 0; }
inline int __syncthreads_and(int p, PB_EMU_SITE) {
  return ::pb_emu::syncthreads_count(p != 0, pb_file_, pb_line_) == (int)(blockDim.x * blockDim.y * blockDim.z);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, PB_EMU_SITE) {
  ::pb_emu::warp_exchange(::pb_emu::WarpOp::Sync, mask, 0, 0, 32, pb_file_, pb_line_);
}
template <typename T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, PB_EMU_SITE) {
  return ::pb_emu::shfl(::pb_emu::WarpOp::ShflIdx, mask, v, src, width, pb_file_, pb_line_);
}
template <typename T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, PB_EMU_SITE) {
  return ::pb_emu::shfl(::pb_emu::WarpOp::ShflUp, mask, v, (int)delta, width, pb_file_, pb_line_);
}
template <typename T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, PB_EMU_SITE) {
  return ::pb_emu::shfl(::pb_emu::WarpOp::ShflDown, mask, v, (int)delta, width, pb_file_, pb_line_);
}
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = 32, PB_EMU_SITE) {
  return ::pb_emu::shfl(::pb_emu::WarpOp::ShflXor, mask, v, laneMask, width, pb_file_, pb_line_);
}
inline unsigned __ballot_sync(unsigned mask, int p, PB_EMU_SITE) {
  return (unsigned)::pb_emu::warp_exchange(::pb_emu::WarpOp::Ballot, mask, p != 0, 0, 32, pb_file_, pb_line_);
}
inline int __any_sync(unsigned mask, int p, PB_EMU_SITE) {
  return (int)::pb_emu::warp_exchange(::pb_emu::WarpOp::Any, mask, p != 0, 0, 32, pb_file_, pb_line_);
}
inline int __all_sync(unsigned mask, int p, PB_EMU_SITE) {
  return (int)::pb_emu::warp_exchange(::pb_emu::WarpOp::All, mask, p != 0, 0, 32, pb_file_, pb_line_);
}
inline unsigned __activemask() { return ::pb_emu::active_mask(); }
inline void __threadfence() {}
inline void __threadfence_block() {}

// Atomics: plain read-modify-write (see the header comment).
template <typename T> inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <typename T> inline T atomicSub(T* p, T v) { T old = *p; *p = old - v; return old; }
template <typename T> inline T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
template <typename T> inline T atomicMax(T* p, T v) { T old = *p; if (v > old) *p = v; return old; }
template <typename T> inline T atomicMin(T* p, T v) { T old = *p; if (v < old) *p = v; return old; }
template <typename T> inline T atomicCAS(T* p, T cmp, T v) { T old = *p; if (old == cmp) *p = v; return old; }
template <typename T> inline T atomicOr(T* p, T v) { T old = *p; *p = old | v; return old; }
template <typename T> inline T atomicAnd(T* p, T v) { T old = *p; *p = old & v; return old; }

// kernel<<<grid, block, smem, stream>>>(args…)  ≡  KERNEL_LAUNCH(kernel, grid, block, smem, stream)(args…)
#define KERNEL_LAUNCH(kernel, grid, block, smem, stream) \
  ((void)(stream), ::pb_emu::make_launch((kernel), #kernel, dim3(grid), dim3(block), (size_t)(smem)))
// extern __shared__ T name[];  (dynamic shared memory sized by the launch)
#define PB_EXTERN_SHARED(T, name) T* name = static_cast<T*>(::pb_emu::dynamic_shared())
