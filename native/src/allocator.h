// A caching allocator (PyTorch's idea, simplified): freed blocks go to per-size free lists and are
// handed out again for the same rounded size, so a training loop stops calling cudaMalloc after
// its first step. Everything runs on one stream, so a block freed after its last kernel was
// enqueued can be reused by the next kernel without waiting (stream order).
//
// Size classes: ≤ 1 MiB rounds up to 512 B; above, to 1/8 of the next power of two (≤ 12.5 %
// waste). A request that fails with out-of-memory empties the cache (raw frees) and tries once
// more before throwing "cuda: out of memory allocating N bytes (allocated X, cached Y)".
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pb {

struct AllocStats {
  double allocated = 0;   // bytes in blocks handed out (rounded sizes)
  double cached = 0;      // bytes in free lists
  double peak = 0;        // max of allocated
  double requested = 0;   // bytes asked for by live buffers (unrounded)
  double mallocCount = 0; // raw device allocations (cudaMalloc)
  double freeCount = 0;   // raw device frees (cudaFree; only emptyCache and the OOM retry)
  double cacheHits = 0;   // allocations served from the cache
  double liveBlocks = 0;
};

class CachingAllocator {
 public:
  static size_t round_size(size_t bytes);
  /** A block of at least `bytes`; *block gets its rounded size. Throws pb::Error on OOM. */
  void* allocate(size_t bytes, size_t* block);
  /** Returns a block (its rounded size) to the cache. */
  void release(void* p, size_t block, size_t requested);
  /** Frees every cached block. */
  void empty_cache();
  const AllocStats& stats() const { return stats_; }
  void reset_peak() { stats_.peak = stats_.allocated; }

 private:
  std::unordered_map<size_t, std::vector<void*>> free_;
  AllocStats stats_;
};

CachingAllocator& allocator();

}  // namespace pb
