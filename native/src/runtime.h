// The device runtime behind the binding and the launchers: the CUDA runtime in the nvcc build
// (runtime_cuda.cc), host memory and synchronous copies in the emulator build (runtime_emu.cc).
// Both libraries are compiled from the same binding, allocator and kernel sources.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#if defined(PB_CPU)
struct CUstream_st;
#define PB_DEVICE_NAME "cpu-native"
#elif defined(PB_EMU)
struct CUstream_st;
#define PB_DEVICE_NAME "cuda-emu"
#else
#include <cuda_runtime_api.h>
#define PB_DEVICE_NAME "cuda"
#endif

namespace pb {

#if defined(PB_EMU) || defined(PB_CPU)
using Stream = CUstream_st*;   // unused by the CPU library (its kernels run synchronously)
#else
using Stream = cudaStream_t;
#endif

namespace rt {

struct InitInfo {
  bool ok = false;
  int deviceCount = 0;
  std::string status;       // "ok" or the CUDA error name (cudaErrorInsufficientDriver, …)
  std::string statusText;   // the error's description
  std::string name;
  int ccMajor = 0, ccMinor = 0;
  int smCount = 0;
  int driverVersion = 0, runtimeVersion = 0;
  double totalMemory = 0;
  bool emulator = false;
};

/** Device count, properties, versions; never throws and never creates a context. */
InitInfo init();
/** Free and total device memory (creates the context on a GPU). */
void mem_info(double* free_bytes, double* total_bytes);

/** Streaming multiprocessors of the device (1 in the emulator); for launch heuristics. */
int sm_count();
/** The one stream every launch, copy and memset goes to (created on first use). */
Stream stream();
/** Raw device allocation; returns false on out-of-memory (after clearing the error), throws otherwise. */
bool raw_malloc(void** p, size_t bytes);
void raw_free(void* p, size_t bytes);
void memset_async(void* p, int value, size_t bytes, Stream s);
void copy_h2d(void* dst, const void* src, size_t bytes, Stream s);
/** Device → host, then waits for the stream (the copy and everything before it). */
void copy_d2h(void* dst, const void* src, size_t bytes, Stream s);
void copy_d2d(void* dst, const void* src, size_t bytes, Stream s);
void synchronize(const char* what);
/** Throws pb::Error naming `what` if the last launch failed (cudaGetLastError). */
void check_last(const char* what);
/** Sync after every launch (PIXELBYTES_CUDA_SYNC=1): errors name the kernel that caused them. */
bool sync_each_launch();
/** Called at env teardown: later frees become no-ops. */
void shutdown();
bool is_shut_down();

#if defined(PB_EMU)
/** Emulator only: a device-memory capacity in bytes (0 = unlimited), to exercise out-of-memory. */
void set_memory_limit(double bytes);
#endif

}  // namespace rt
}  // namespace pb
