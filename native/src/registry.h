// The kernel registry and the one calling convention across N-API:
//   launch(name, outs[], ins[], ints, floats)
// outs and ins are device buffers (float32 or int32), ints are sizes and flags, floats scalars —
// exactly the convention of the CPU kernels in src/backend/cpu/*.ts (same names, same ints and
// floats), so the TypeScript side registers one generic adapter per name in kernelInfo().
//
// Each native/kernels/*.cu file ends with REGISTER_KERNEL lines. The sources are compiled straight
// into the SHARED .node targets (never through a static library, whose unreferenced objects the
// linker would drop together with their static registrars).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime.h"

namespace pb {

enum DType : int { F32 = 0, I32 = 1 };
inline const char* dtype_name(int d) { return d == F32 ? "float32" : d == I32 ? "int32" : "?"; }

/** One device allocation, owned by a JS handle (Napi::External) and returned to the allocator. */
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;     // requested (numel · 4)
  size_t block = 0;     // the allocator's block size (≥ bytes)
  size_t numel = 0;
  int dtype = F32;
  bool freed = false;
};

/** A CUDA (or emulated) error, or a misuse, raised while running a kernel or a runtime call. */
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& what) : std::runtime_error(what), code_(std::move(code)) {}
  const std::string& code() const { return code_; }
 private:
  std::string code_;
};

struct KernelCall {
  const char* name = "";
  std::vector<DeviceBuffer*> outs, ins;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  Stream stream = nullptr;

  [[noreturn]] void fail(const std::string& msg) const { throw Error("invalidArgument", std::string(name) + ": " + msg); }

  int64_t i(size_t k) const {
    if (k >= ints.size()) fail("needs at least " + std::to_string(k + 1) + " ints, got " + std::to_string(ints.size()));
    return ints[k];
  }
  double f(size_t k) const {
    if (k >= floats.size()) fail("needs at least " + std::to_string(k + 1) + " floats, got " + std::to_string(floats.size()));
    return floats[k];
  }
  void need_ints(size_t n) const {
    if (ints.size() != n) fail("expects " + std::to_string(n) + " ints, got " + std::to_string(ints.size()));
  }
  void need_floats(size_t n) const {
    if (floats.size() < n) fail("expects " + std::to_string(n) + " floats, got " + std::to_string(floats.size()));
  }
  void need_outs(size_t n) const { if (outs.size() != n) fail("expects " + std::to_string(n) + " outputs, got " + std::to_string(outs.size())); }
  void need_ins(size_t n) const { if (ins.size() != n) fail("expects " + std::to_string(n) + " inputs, got " + std::to_string(ins.size())); }
  DeviceBuffer& out(size_t k) const { return *outs.at(k); }
  DeviceBuffer& in(size_t k) const { return *ins.at(k); }
  /** The k-th output as float32 (checks the dtype and, if given, the element count). */
  float* outF(size_t k, int64_t numel = -1) const { return static_cast<float*>(checked(outs.at(k), "output", k, F32, numel)); }
  int32_t* outI(size_t k, int64_t numel = -1) const { return static_cast<int32_t*>(checked(outs.at(k), "output", k, I32, numel)); }
  const float* inF(size_t k, int64_t numel = -1) const { return static_cast<const float*>(checked(ins.at(k), "input", k, F32, numel)); }
  const int32_t* inI(size_t k, int64_t numel = -1) const { return static_cast<const int32_t*>(checked(ins.at(k), "input", k, I32, numel)); }
  /** Element count at least `numel` (for buffers read with broadcast strides). */
  void need_at_least(const DeviceBuffer& b, const char* what, int64_t numel) const {
    if (static_cast<int64_t>(b.numel) < numel) fail(std::string(what) + " has " + std::to_string(b.numel) + " elements, needs at least " + std::to_string(numel));
  }

 private:
  void* checked(DeviceBuffer* b, const char* what, size_t k, int dtype, int64_t numel) const {
    if (b->dtype != dtype) fail(std::string(what) + " " + std::to_string(k) + " is " + dtype_name(b->dtype) + ", expected " + dtype_name(dtype));
    if (numel >= 0 && static_cast<int64_t>(b->numel) != numel) {
      fail(std::string(what) + " " + std::to_string(k) + " has " + std::to_string(b->numel) + " elements, expected " + std::to_string(numel));
    }
    return b->ptr;
  }
};

using Launcher = void (*)(KernelCall&);

struct KernelDef {
  const char* name;
  int nOut;
  int nIn;
  Launcher fn;
  const char* file;
};

void register_kernel(const KernelDef& def);
const KernelDef* find_kernel(const std::string& name);
const std::vector<KernelDef>& all_kernels();

struct Registrar {
  Registrar(const char* name, int nOut, int nIn, Launcher fn, const char* file) { register_kernel(KernelDef{name, nOut, nIn, fn, file}); }
};

/** Checks the launch that was just enqueued (cudaGetLastError; a full sync with PIXELBYTES_CUDA_SYNC=1). */
void check_launch(const KernelCall& call);

}  // namespace pb

#define PB_CAT2(a, b) a##b
#define PB_CAT(a, b) PB_CAT2(a, b)
/**
 * REGISTER_KERNEL("name", nOut, nIn, launcher) — one line per kernel, at file scope. nOut/nIn are
 * checked by the binding before the launcher runs; -1 means "a variable count" (the launcher checks).
 */
#define REGISTER_KERNEL(name, nOut, nIn, fn) static ::pb::Registrar PB_CAT(pb_registrar_, __LINE__)(name, nOut, nIn, fn, __FILE__)
