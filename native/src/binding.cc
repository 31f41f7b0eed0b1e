// The N-API surface of both native libraries (pixelbytes_cuda.node, built by nvcc, and
// pixelbytes_emu.node, the SIMT emulator built by g++ from the same sources):
//
//   init()                      → {compiled, emulator, deviceCount, status, statusText, name,
//                                   computeCapability, smCount, driverVersion, runtimeVersion,
//                                   totalMemory}; never throws, never creates a CUDA context
//   memInfo()                   → {free, total} (creates the context)
//   alloc(dtype, length, zero)  → handle (an External owning a device buffer; its finalizer frees it)
//   free(handle)                   idempotent
//   copyIn(handle, typedArray)     host → device (Float32Array ↔ float32, Int32Array ↔ int32)
//   copyOut(handle, typedArray)    device → host; waits for the stream
//   launch(name, outs, ins, ints, floats)   enqueue a registered kernel (asynchronous)
//   synchronize()
//   memStats() / resetPeak() / emptyCache()
//   kernelInfo()                → [{name, nOut, nIn, file}]
//   setMemoryLimit(bytes)          emulator only (tests of the out-of-memory path)
//
// Every failure is a JS Error whose message names the kernel or the call and the CUDA error
// (cudaGetErrorName: cudaGetErrorString), with `code` set to the CUDA error name.
#include <napi.h>

#include <cstring>
#include <string>

#include "allocator.h"
#include "napi_common.h"
#include "registry.h"
#include "runtime.h"
#if defined(PB_EMU)
#include "../emu/simt.h"
#endif

namespace {

using pb::DeviceBuffer;
using pb::napi::make_error;
using pb::napi::read_numbers;
using pb::napi::KernelInfo;

// Handles from one library must not be passed to the other (emu pointers are host memory).
#if defined(PB_EMU)
const napi_type_tag kTag = {0x7069786279746573ull, 0x656d750000000001ull};
#else
const napi_type_tag kTag = {0x7069786279746573ull, 0x6375646100000001ull};
#endif

std::string strip_device_prefix(const std::string& m) {
  for (const char* p : {"cuda-emu: ", "cuda: "}) {
    size_t n = std::strlen(p);
    if (m.compare(0, n, p) == 0) return m.substr(n);
  }
  return m;
}

/** Runs fn, turning C++ exceptions into JS errors; `kernel` (if any) is named in the message. */
template <typename F>
auto guarded(Napi::Env env, const std::string& what, const std::string& kernel, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const pb::Error& e) {
    std::string m = e.what();
    if (!kernel.empty() && m.find("'" + kernel + "'") == std::string::npos) m = std::string(PB_DEVICE_NAME) + " kernel '" + kernel + "': " + strip_device_prefix(m);
    throw make_error(env, m, e.code(), kernel);
#if defined(PB_EMU)
  } catch (const pb_emu::Error& e) {
    std::string m = std::string(PB_DEVICE_NAME) + (kernel.empty() ? " " + what : " kernel '" + kernel + "'") + ": " + strip_device_prefix(e.what());
    throw make_error(env, m, e.code(), kernel);
#endif
  } catch (const std::exception& e) {
    std::string m = std::string(PB_DEVICE_NAME) + (kernel.empty() ? " " + what : " kernel '" + kernel + "'") + ": " + e.what();
    throw make_error(env, m, "internalError", kernel);
  }
}

void release_buffer(DeviceBuffer* b) {
  if (b->freed) return;
  b->freed = true;
  pb::allocator().release(b->ptr, b->block, b->bytes);
  b->ptr = nullptr;
}

DeviceBuffer* unwrap(Napi::Env env, Napi::Value v, const std::string& what) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(env, v, &kTag, &ok);
  if (!ok) throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + " is not a " + PB_DEVICE_NAME + " buffer handle", "invalidArgument");
  DeviceBuffer* b = v.As<Napi::External<DeviceBuffer>>().Data();
  if (b->freed) throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + " was freed (used after dispose)", "invalidArgument");
  return b;
}

int parse_dtype(Napi::Env env, Napi::Value v) {
  if (v.IsString()) {
    std::string s = v.As<Napi::String>();
    if (s == "float32") return pb::F32;
    if (s == "int32") return pb::I32;
    throw make_error(env, std::string(PB_DEVICE_NAME) + ": dtype '" + s + "' is not supported on this device (float32 and int32 only)", "invalidArgument");
  }
  throw make_error(env, std::string(PB_DEVICE_NAME) + ": dtype must be 'float32' or 'int32'", "invalidArgument");
}

struct HostView {
  void* data = nullptr;
  size_t length = 0;
  int dtype = -1;
};

HostView host_view(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsTypedArray()) throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + " needs a Float32Array or Int32Array", "invalidArgument");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  napi_status st = napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset);
  if (st != napi_ok) throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + ": cannot read the typed array", "invalidArgument");
  HostView h;
  h.data = data;
  h.length = length;
  if (type == napi_float32_array) h.dtype = pb::F32;
  else if (type == napi_int32_array) h.dtype = pb::I32;
  else throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + " needs a Float32Array or Int32Array (float64 is not supported on this device)", "invalidArgument");
  return h;
}

void check_host(Napi::Env env, const DeviceBuffer* b, const HostView& h, const char* what) {
  if (h.dtype != b->dtype || h.length != b->numel) {
    throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + ": the buffer holds " + std::to_string(b->numel) + " " + pb::dtype_name(b->dtype) + ", the array " + std::to_string(h.length) +
                              " " + pb::dtype_name(h.dtype), "invalidArgument");
  }
  if (h.length && !h.data) throw make_error(env, std::string(PB_DEVICE_NAME) + ": " + what + ": the array's buffer is detached", "invalidArgument");
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pb::rt::InitInfo i = pb::rt::init();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", Napi::Boolean::New(env, true));
  o.Set("emulator", Napi::Boolean::New(env, i.emulator));
  o.Set("deviceCount", Napi::Number::New(env, i.deviceCount));
  o.Set("status", Napi::String::New(env, i.status));
  o.Set("statusText", Napi::String::New(env, i.statusText));
  o.Set("name", Napi::String::New(env, i.name));
  o.Set("computeCapability", Napi::String::New(env, i.ok ? std::to_string(i.ccMajor) + "." + std::to_string(i.ccMinor) : ""));
  o.Set("smCount", Napi::Number::New(env, i.smCount));
  o.Set("driverVersion", Napi::Number::New(env, i.driverVersion));
  o.Set("runtimeVersion", Napi::Number::New(env, i.runtimeVersion));
  o.Set("totalMemory", Napi::Number::New(env, i.totalMemory));
#if defined(PB_CUDA_ARCHS)
  o.Set("archs", Napi::String::New(env, PB_CUDA_ARCHS));
#else
  o.Set("archs", Napi::String::New(env, ""));
#endif
  return o;
}

Napi::Value MemInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "memInfo", "", [&]() -> Napi::Value {
    double f = 0, t = 0;
    pb::rt::mem_info(&f, &t);
    Napi::Object o = Napi::Object::New(env);
    o.Set("free", Napi::Number::New(env, f));
    o.Set("total", Napi::Number::New(env, t));
    return o;
  });
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dtype = parse_dtype(env, info[0]);
  double len = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
  if (!(len >= 0) || len != static_cast<double>(static_cast<size_t>(len))) throw make_error(env, std::string(PB_DEVICE_NAME) + ": alloc: length must be a non-negative integer", "invalidArgument");
  bool zero = info.Length() < 3 || info[2].ToBoolean();
  return guarded(env, "alloc", "", [&]() -> Napi::Value {
    auto* b = new DeviceBuffer();
    b->numel = static_cast<size_t>(len);
    b->dtype = dtype;
    b->bytes = b->numel * 4;
    try {
      b->ptr = pb::allocator().allocate(b->bytes, &b->block);
      if (zero) pb::rt::memset_async(b->ptr, 0, b->bytes, pb::rt::stream());
    } catch (...) {
      if (b->ptr) pb::allocator().release(b->ptr, b->block, b->bytes);
      delete b;
      throw;
    }
    // The finalizer is the backstop for handles that were never freed: the block goes back to the
    // cache when the GC collects the handle. free() first makes the finalizer a no-op.
    auto ext = Napi::External<DeviceBuffer>::New(env, b, [](Napi::Env, DeviceBuffer* p) {
      release_buffer(p);
      delete p;
    });
    napi_type_tag_object(env, ext, &kTag);
    return ext;
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ok = false;
  if (info[0].IsExternal()) napi_check_object_type_tag(env, info[0], &kTag, &ok);
  if (!ok) throw make_error(env, std::string(PB_DEVICE_NAME) + ": free: not a buffer handle", "invalidArgument");
  release_buffer(info[0].As<Napi::External<DeviceBuffer>>().Data());
  return env.Undefined();
}

Napi::Value CopyIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = unwrap(env, info[0], "copyIn: the target");
  HostView h = host_view(env, info[1], "copyIn");
  check_host(env, b, h, "copyIn");
  return guarded(env, "copyIn", "", [&]() -> Napi::Value {
    pb::rt::copy_h2d(b->ptr, h.data, b->bytes, pb::rt::stream());
    return env.Undefined();
  });
}

Napi::Value CopyOut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = unwrap(env, info[0], "copyOut: the source");
  HostView h = host_view(env, info[1], "copyOut");
  check_host(env, b, h, "copyOut");
  return guarded(env, "copyOut", "", [&]() -> Napi::Value {
    pb::rt::copy_d2h(h.data, b->ptr, b->bytes, pb::rt::stream());
    return env.Undefined();
  });
}

void read_handles(Napi::Env env, Napi::Value v, std::vector<DeviceBuffer*>& out, const std::string& name, const char* what) {
  if (!v.IsArray()) throw make_error(env, std::string(PB_DEVICE_NAME) + " kernel '" + name + "': " + what + " must be an array of handles", "invalidArgument", name);
  Napi::Array a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value h = a.Get(i);
    bool ok = false;
    if (h.IsExternal()) napi_check_object_type_tag(env, h, &kTag, &ok);
    if (!ok) throw make_error(env, std::string(PB_DEVICE_NAME) + " kernel '" + name + "': " + what + "[" + std::to_string(i) + "] is not a " + PB_DEVICE_NAME + " buffer", "invalidArgument", name);
    DeviceBuffer* b = h.As<Napi::External<DeviceBuffer>>().Data();
    if (b->freed) throw make_error(env, std::string(PB_DEVICE_NAME) + " kernel '" + name + "': " + what + "[" + std::to_string(i) + "] was freed (used after dispose)", "invalidArgument", name);
    out.push_back(b);
  }
}

Napi::Value Launch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw make_error(env, std::string(PB_DEVICE_NAME) + ": launch: the kernel name must be a string", "invalidArgument");
  std::string name = info[0].As<Napi::String>();
  const pb::KernelDef* k = pb::find_kernel(name);
  if (!k) throw make_error(env, std::string(PB_DEVICE_NAME) + ": no kernel named '" + name + "' in this library", "invalidArgument", name);
  pb::KernelCall call;
  call.name = k->name;
  read_handles(env, info[1], call.outs, name, "outs");
  read_handles(env, info[2], call.ins, name, "ins");
  // nOut/nIn of -1: a variable count (layernorm's optional weight/bias, concat's inputs); the launcher checks it
  if ((k->nOut >= 0 && static_cast<int>(call.outs.size()) != k->nOut) || (k->nIn >= 0 && static_cast<int>(call.ins.size()) != k->nIn)) {
    throw make_error(env, std::string(PB_DEVICE_NAME) + " kernel '" + name + "': arity mismatch: expects " + std::to_string(k->nOut) + " outputs and " + std::to_string(k->nIn) + " inputs, got " +
                              std::to_string(call.outs.size()) + " and " + std::to_string(call.ins.size()), "invalidArgument", name);
  }
  read_numbers(env, info[3], call.ints, name, "ints");
  read_numbers(env, info[4], call.floats, name, "floats");
  return guarded(env, "launch", name, [&]() -> Napi::Value {
    call.stream = pb::rt::stream();
    k->fn(call);
    pb::check_launch(call);
    return env.Undefined();
  });
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "synchronize", "", [&]() -> Napi::Value {
    pb::rt::synchronize("synchronize");
    return env.Undefined();
  });
}

Napi::Value MemStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const pb::AllocStats& s = pb::allocator().stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", s.allocated);
  o.Set("cached", s.cached);
  o.Set("peak", s.peak);
  o.Set("requested", s.requested);
  o.Set("mallocCount", s.mallocCount);
  o.Set("freeCount", s.freeCount);
  o.Set("cacheHits", s.cacheHits);
  o.Set("liveBlocks", s.liveBlocks);
  return o;
}

Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  pb::allocator().reset_peak();
  return info.Env().Undefined();
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, "emptyCache", "", [&]() -> Napi::Value {
    pb::allocator().empty_cache();
    return env.Undefined();
  });
}

#if defined(PB_EMU)
Napi::Value SetMemoryLimit(const Napi::CallbackInfo& info) {
  pb::rt::set_memory_limit(info[0].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}
#endif

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("memInfo", Napi::Function::New(env, MemInfo, "memInfo"));
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("copyIn", Napi::Function::New(env, CopyIn, "copyIn"));
  exports.Set("copyOut", Napi::Function::New(env, CopyOut, "copyOut"));
  exports.Set("launch", Napi::Function::New(env, Launch, "launch"));
  exports.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
  exports.Set("memStats", Napi::Function::New(env, MemStats, "memStats"));
  exports.Set("resetPeak", Napi::Function::New(env, ResetPeak, "resetPeak"));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache, "emptyCache"));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo, "kernelInfo"));
  exports.Set("device", Napi::String::New(env, PB_DEVICE_NAME));
#if defined(PB_EMU)
  exports.Set("setMemoryLimit", Napi::Function::New(env, SetMemoryLimit, "setMemoryLimit"));
#endif
  // At teardown: wait for queued work, then make every later free a no-op (finalizers may run
  // after this, when the CUDA runtime is going away).
  env.AddCleanupHook([]() { pb::rt::shutdown(); });
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Module)
