// The CUDA runtime side of the binding (nvcc build only). cudart is linked statically, so the
// .node file loads on machines with no CUDA installed; the driver (libcuda.so.1) is opened at the
// first runtime call, and its absence comes back as cudaErrorInsufficientDriver / NoDevice.
#include <cuda_runtime_api.h>

#include <cstdlib>
#include <string>

#include "registry.h"
#include "runtime.h"

namespace pb {
namespace rt {
namespace {

cudaStream_t g_stream = nullptr;
bool g_shutdown = false;
// A fault inside a kernel (illegal address, …) is sticky: the context is dead, every later call
// fails with the same error. We remember the first one to say where it came from.
std::string g_poisoned;

bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void raise(cudaError_t e, const char* what) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  std::string msg = std::string("cuda: ") + what + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
  if (is_sticky(e)) {
    if (g_poisoned.empty()) g_poisoned = msg;
    else msg += " (the CUDA context was already broken by: " + g_poisoned + "; restart the process)";
  }
  throw Error(cudaGetErrorName(e), msg);
}

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) raise(e, what);
}

}  // namespace

InitInfo init() {
  InitInfo info;
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  cudaDriverGetVersion(&info.driverVersion);
  cudaRuntimeGetVersion(&info.runtimeVersion);
  if (e != cudaSuccess) {
    info.status = cudaGetErrorName(e);
    info.statusText = cudaGetErrorString(e);
    cudaGetLastError();
    return info;
  }
  info.deviceCount = n;
  if (n == 0) {
    info.status = "cudaErrorNoDevice";
    info.statusText = "no CUDA-capable device is detected";
    return info;
  }
  cudaDeviceProp p{};
  e = cudaGetDeviceProperties(&p, 0);
  if (e != cudaSuccess) {
    info.status = cudaGetErrorName(e);
    info.statusText = cudaGetErrorString(e);
    cudaGetLastError();
    return info;
  }
  info.ok = true;
  info.status = "ok";
  info.name = p.name;
  info.ccMajor = p.major;
  info.ccMinor = p.minor;
  info.smCount = p.multiProcessorCount;
  info.totalMemory = static_cast<double>(p.totalGlobalMem);
  return info;
}

void mem_info(double* free_bytes, double* total_bytes) {
  size_t f = 0, t = 0;
  check(cudaMemGetInfo(&f, &t), "cudaMemGetInfo");
  *free_bytes = static_cast<double>(f);
  *total_bytes = static_cast<double>(t);
}

int sm_count() {
  static int n = [] {
    int v = 0;
    if (cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0) != cudaSuccess) { cudaGetLastError(); v = 40; }
    return v > 0 ? v : 40;
  }();
  return n;
}

Stream stream() {
  if (!g_stream) {
    check(cudaSetDevice(0), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }
  return g_stream;
}

bool raw_malloc(void** p, size_t bytes) {
  stream();
  cudaError_t e = cudaMalloc(p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return false;
  }
  check(e, "cudaMalloc");
  return true;
}

void raw_free(void* p, size_t) {
  if (g_shutdown || !p) return;
  cudaError_t e = cudaFree(p);
  if (e != cudaSuccess) cudaGetLastError();  // never throw from a free (finalizers call it)
}

void memset_async(void* p, int value, size_t bytes, Stream s) {
  if (bytes) check(cudaMemsetAsync(p, value, bytes, s), "cudaMemsetAsync");
}

void copy_h2d(void* dst, const void* src, size_t bytes, Stream s) {
  // From pageable memory the runtime stages the data before returning, so the JS array may go away.
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), "copy to device (cudaMemcpyAsync)");
}

void copy_d2h(void* dst, const void* src, size_t bytes, Stream s) {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "copy to host (cudaMemcpyAsync)");
  check(cudaStreamSynchronize(s), "copy to host (cudaStreamSynchronize; an error here may come from an earlier kernel — run with PIXELBYTES_CUDA_SYNC=1 to find it)");
}

void copy_d2d(void* dst, const void* src, size_t bytes, Stream s) {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s), "cudaMemcpyAsync (device to device)");
}

void synchronize(const char* what) {
  if (!g_stream) return;
  check(cudaStreamSynchronize(g_stream), what);
}

void check_last(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) raise(e, what);
}

bool sync_each_launch() {
  static const bool on = [] { const char* e = std::getenv("PIXELBYTES_CUDA_SYNC"); return e && *e && *e != '0'; }();
  return on;
}

void shutdown() {
  if (g_shutdown) return;
  if (g_stream) cudaStreamSynchronize(g_stream);
  g_shutdown = true;
}

bool is_shut_down() { return g_shutdown; }

}  // namespace rt

void check_launch(const KernelCall& call) {
  std::string what = std::string("kernel '") + call.name + "'";
  rt::check_last(what.c_str());
  if (rt::sync_each_launch()) rt::synchronize(what.c_str());
}

}  // namespace pb
