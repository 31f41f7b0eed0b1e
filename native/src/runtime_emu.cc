// The emulator's "device": host memory (256-byte aligned, like cudaMalloc), memcpy/memset, and a
// synchronous stream — every launch has finished when KERNEL_LAUNCH returns.
#include <cstdlib>
#include <cstring>

#include "registry.h"
#include "runtime.h"

namespace pb {
namespace rt {
namespace {
bool g_shutdown = false;
double g_limit = 0;   // 0 = unlimited
double g_in_use = 0;  // raw bytes held (allocator blocks, cached or not)
}  // namespace

InitInfo init() {
  InitInfo info;
  info.ok = true;
  info.emulator = true;
  info.deviceCount = 1;
  info.status = "ok";
  info.name = "SIMT emulator (host CPU, one block at a time, threads as fibers)";
  info.ccMajor = 7;
  info.ccMinor = 5;
  info.smCount = 1;
  return info;
}

void mem_info(double* free_bytes, double* total_bytes) {
  *total_bytes = g_limit;
  *free_bytes = g_limit > 0 ? g_limit - g_in_use : 0;
}

Stream stream() { return nullptr; }
int sm_count() { return 1; }

bool raw_malloc(void** p, size_t bytes) {
  if (g_limit > 0 && g_in_use + static_cast<double>(bytes) > g_limit) return false;
  size_t rounded = (bytes + 255) / 256 * 256;
  void* m = std::aligned_alloc(256, rounded ? rounded : 256);
  if (!m) return false;
  *p = m;
  g_in_use += static_cast<double>(bytes);
  return true;
}

void raw_free(void* p, size_t bytes) {
  if (!p) return;
  std::free(p);
  g_in_use -= static_cast<double>(bytes);
}

void memset_async(void* p, int value, size_t bytes, Stream) { if (bytes) std::memset(p, value, bytes); }
void copy_h2d(void* dst, const void* src, size_t bytes, Stream) { if (bytes) std::memcpy(dst, src, bytes); }
void copy_d2h(void* dst, const void* src, size_t bytes, Stream) { if (bytes) std::memcpy(dst, src, bytes); }
void copy_d2d(void* dst, const void* src, size_t bytes, Stream) { if (bytes) std::memmove(dst, src, bytes); }
void synchronize(const char*) {}
void check_last(const char*) {}
bool sync_each_launch() { return false; }
void shutdown() { g_shutdown = true; }
bool is_shut_down() { return g_shutdown; }
void set_memory_limit(double bytes) { g_limit = bytes; }

}  // namespace rt

void check_launch(const KernelCall&) {}

}  // namespace pb
