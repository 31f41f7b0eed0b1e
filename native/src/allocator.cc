#include "allocator.h"

#include <sstream>

#include "registry.h"
#include "runtime.h"

namespace pb {

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) return 0;
  if (bytes <= (1u << 20)) return (bytes + 511) / 512 * 512;
  size_t p = 1;
  while (p < bytes) p <<= 1;
  size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t bytes, size_t* block) {
  const size_t b = round_size(bytes);
  *block = b;
  if (b == 0) return nullptr;
  void* p = nullptr;
  auto it = free_.find(b);
  if (it != free_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    stats_.cached -= static_cast<double>(b);
    stats_.cacheHits++;
  } else {
    bool ok = rt::raw_malloc(&p, b);
    if (!ok && stats_.cached > 0) {
      empty_cache();
      ok = rt::raw_malloc(&p, b);
    }
    if (!ok) {
      std::ostringstream os;
      os << PB_DEVICE_NAME << ": out of memory allocating " << bytes << " bytes (allocated " << static_cast<uint64_t>(stats_.allocated) << ", cached "
         << static_cast<uint64_t>(stats_.cached) << ")";
      throw Error("cudaErrorMemoryAllocation", os.str());
    }
    stats_.mallocCount++;
  }
  stats_.allocated += static_cast<double>(b);
  stats_.requested += static_cast<double>(bytes);
  stats_.liveBlocks++;
  if (stats_.allocated > stats_.peak) stats_.peak = stats_.allocated;
  return p;
}

void CachingAllocator::release(void* p, size_t block, size_t requested) {
  if (!p) return;
  stats_.allocated -= static_cast<double>(block);
  stats_.requested -= static_cast<double>(requested);
  stats_.liveBlocks--;
  if (rt::is_shut_down()) return;  // the process is going away; the driver reclaims everything
  free_[block].push_back(p);
  stats_.cached += static_cast<double>(block);
}

void CachingAllocator::empty_cache() {
  if (rt::is_shut_down()) return;
  // Blocks may still be read by queued kernels: wait before handing them back to the driver.
  rt::synchronize("emptyCache");
  for (auto& kv : free_) {
    for (void* p : kv.second) {
      rt::raw_free(p, kv.first);
      stats_.freeCount++;
    }
    stats_.cached -= static_cast<double>(kv.first) * static_cast<double>(kv.second.size());
    kv.second.clear();
  }
  free_.clear();
  stats_.cached = 0;
}

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed: finalizers may run late
  return *a;
}

}  // namespace pb
