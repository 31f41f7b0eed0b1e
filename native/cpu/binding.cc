// The N-API surface of pixelbytes_cpu.node, the native CPU device 'cpu-native' (g++ only, no CUDA):
//
//   info()                        → {isa, threads, hardwareThreads, compiler, arch}
//   setThreads(n) / getThreads()     the pool's size (caller included)
//   gemmSetIsa(isa)               → bool: force the SGEMM micro-kernel ("avx512", "avx2+fma", "generic")
//   launch(name, outs, ins, ints, floats)
//       outs, ins: Float32Array / Int32Array — the tensors' own memory, read and written in place;
//       runs synchronously (the JS thread waits while the pool works)
//   kernelInfo()                  → [{name, nOut, nIn, file}]
//
// Every failure is a JS Error naming the kernel, with `code` ('invalidArgument', 'internalError').
#include <napi.h>

#include <string>
#include <vector>

#include "../src/napi_common.h"
#include "../src/registry.h"
#include "gemm.h"
#include "parallel.h"

namespace {

using pb::napi::make_error;
using pb::napi::read_numbers;
using pb::napi::KernelInfo;

std::string prefix(const std::string& kernel) { return std::string(PB_DEVICE_NAME) + " kernel '" + kernel + "': "; }

/** A typed array as a buffer view (no copy). `views` owns the DeviceBuffer records for the call. */
void read_arrays(Napi::Env env, Napi::Value v, std::vector<pb::DeviceBuffer>& views, std::vector<pb::DeviceBuffer*>& out, const std::string& kernel, const char* what) {
  if (!v.IsArray()) throw make_error(env, prefix(kernel) + what + " must be an array of Float32Array/Int32Array", "invalidArgument", kernel);
  Napi::Array a = v.As<Napi::Array>();
  const size_t base = views.size();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value ab;
    size_t offset = 0;
    if (!e.IsTypedArray() || napi_get_typedarray_info(env, e, &type, &length, &data, &ab, &offset) != napi_ok) {
      throw make_error(env, prefix(kernel) + what + "[" + std::to_string(i) + "] is not a typed array", "invalidArgument", kernel);
    }
    pb::DeviceBuffer b;
    if (type == napi_float32_array) b.dtype = pb::F32;
    else if (type == napi_int32_array) b.dtype = pb::I32;
    else throw make_error(env, prefix(kernel) + what + "[" + std::to_string(i) + "] must be a Float32Array or Int32Array (float64 runs on the TypeScript 'cpu' device)", "invalidArgument", kernel);
    if (length && !data) throw make_error(env, prefix(kernel) + what + "[" + std::to_string(i) + "]: its buffer is detached", "invalidArgument", kernel);
    b.ptr = data;
    b.numel = length;
    b.bytes = b.block = length * 4;
    views.push_back(b);
  }
  for (size_t i = base; i < views.size(); i++) out.push_back(&views[i]);
}

Napi::Value Launch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw make_error(env, std::string(PB_DEVICE_NAME) + ": launch: the kernel name must be a string", "invalidArgument");
  std::string name = info[0].As<Napi::String>();
  const pb::KernelDef* k = pb::find_kernel(name);
  if (!k) throw make_error(env, std::string(PB_DEVICE_NAME) + ": no kernel named '" + name + "' in this library", "invalidArgument", name);
  pb::KernelCall call;
  call.name = k->name;
  std::vector<pb::DeviceBuffer> views;
  views.reserve(64);   // stable addresses: call.outs/ins point into it
  read_arrays(env, info[1], views, call.outs, name, "outs");
  read_arrays(env, info[2], views, call.ins, name, "ins");
  if (views.size() > 64) throw make_error(env, prefix(name) + "more than 64 buffers", "invalidArgument", name);
  if ((k->nOut >= 0 && static_cast<int>(call.outs.size()) != k->nOut) || (k->nIn >= 0 && static_cast<int>(call.ins.size()) != k->nIn)) {
    throw make_error(env, prefix(name) + "arity mismatch: expects " + std::to_string(k->nOut) + " outputs and " + std::to_string(k->nIn) + " inputs, got " + std::to_string(call.outs.size()) + " and " +
                              std::to_string(call.ins.size()), "invalidArgument", name);
  }
  read_numbers(env, info[3], call.ints, name, "ints");
  read_numbers(env, info[4], call.floats, name, "floats");
  try {
    k->fn(call);
  } catch (const pb::Error& e) {
    std::string m = e.what();
    // KernelCall::fail writes "name: what"; say it once, with the device
    if (m.compare(0, name.size() + 2, name + ": ") == 0) m = prefix(name) + m.substr(name.size() + 2);
    else if (m.find("'" + name + "'") == std::string::npos) m = prefix(name) + m;
    throw make_error(env, m, e.code(), name);
  } catch (const std::bad_alloc&) {
    throw make_error(env, prefix(name) + "out of memory (host scratch allocation failed)", "outOfMemory", name);
  } catch (const std::exception& e) {
    throw make_error(env, prefix(name) + e.what(), "internalError", name);
  }
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", Napi::String::New(env, pb::cpu::gemm_isa()));
  o.Set("threads", Napi::Number::New(env, pb::cpu::num_threads()));
  o.Set("hardwareThreads", Napi::Number::New(env, pb::cpu::hardware_threads()));
#if defined(__clang__)
  o.Set("compiler", Napi::String::New(env, std::string("clang ") + __clang_version__));
#elif defined(__GNUC__)
  o.Set("compiler", Napi::String::New(env, std::string("g++ ") + __VERSION__));
#else
  o.Set("compiler", Napi::String::New(env, "unknown"));
#endif
#if defined(__x86_64__)
  o.Set("arch", Napi::String::New(env, "x86_64"));
#elif defined(__aarch64__)
  o.Set("arch", Napi::String::New(env, "aarch64"));
#else
  o.Set("arch", Napi::String::New(env, "other"));
#endif
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw make_error(env, std::string(PB_DEVICE_NAME) + ": setThreads(n) needs a number", "invalidArgument");
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1) || n != static_cast<double>(static_cast<int>(n))) throw make_error(env, std::string(PB_DEVICE_NAME) + ": setThreads: " + std::to_string(n) + " is not a positive integer", "invalidArgument");
  pb::cpu::set_num_threads(static_cast<int>(n));
  return Napi::Number::New(env, pb::cpu::num_threads());
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pb::cpu::num_threads()); }

Napi::Value GemmSetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw make_error(env, std::string(PB_DEVICE_NAME) + ": gemmSetIsa(isa) needs a string", "invalidArgument");
  std::string isa = info[0].As<Napi::String>();
  return Napi::Boolean::New(env, pb::cpu::gemm_set_isa(isa.c_str()));
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("gemmSetIsa", Napi::Function::New(env, GemmSetIsa, "gemmSetIsa"));
  exports.Set("launch", Napi::Function::New(env, Launch, "launch"));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo, "kernelInfo"));
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
