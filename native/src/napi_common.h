// N-API helpers shared by the bindings of every native library (src/binding.cc for cuda and
// cuda-emu, cpu/binding.cc for cpu-native): errors that carry the device and the kernel, the
// ints/floats arguments of a launch, and kernelInfo(). PB_DEVICE_NAME comes from runtime.h.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "registry.h"
#include "runtime.h"

namespace pb {
namespace napi {

/** A JS Error with .code, .device and (for launches) .kernel. */
inline Napi::Error make_error(Napi::Env env, const std::string& msg, const std::string& code, const std::string& kernel = "") {
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  err.Set("device", Napi::String::New(env, PB_DEVICE_NAME));
  if (!kernel.empty()) err.Set("kernel", Napi::String::New(env, kernel));
  return err;
}

/** A launch's ints or floats: an Int32Array, Float64Array, Float32Array or array of numbers (undefined: none). */
template <typename T>
void read_numbers(Napi::Env env, Napi::Value v, std::vector<T>& out, const std::string& name, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return;
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value ab;
    size_t offset = 0;
    napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset);
    out.resize(length);
    for (size_t i = 0; i < length; i++) {
      switch (type) {
        case napi_int32_array: out[i] = static_cast<T>(static_cast<const int32_t*>(data)[i]); break;
        case napi_float64_array: out[i] = static_cast<T>(static_cast<const double*>(data)[i]); break;
        case napi_float32_array: out[i] = static_cast<T>(static_cast<const float*>(data)[i]); break;
        default: throw make_error(env, std::string(PB_DEVICE_NAME) + " kernel '" + name + "': " + what + " must be an Int32Array, Float64Array, Float32Array or array", "invalidArgument", name);
      }
    }
    return;
  }
  if (!v.IsArray()) throw make_error(env, std::string(PB_DEVICE_NAME) + " kernel '" + name + "': " + what + " must be a typed array or an array of numbers", "invalidArgument", name);
  Napi::Array a = v.As<Napi::Array>();
  out.resize(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = static_cast<T>(a.Get(i).As<Napi::Number>().DoubleValue());
}

/** kernelInfo() → [{name, nOut, nIn, file}] from the library's kernel table. */
inline Napi::Value KernelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& all = pb::all_kernels();
  Napi::Array a = Napi::Array::New(env, all.size());
  for (size_t i = 0; i < all.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", all[i].name);
    o.Set("nOut", all[i].nOut);
    o.Set("nIn", all[i].nIn);
    std::string f = all[i].file;
    size_t s = f.find_last_of("/\\");
    o.Set("file", s == std::string::npos ? f : f.substr(s + 1));
    a.Set(static_cast<uint32_t>(i), o);
  }
  return a;
}

}  // namespace napi
}  // namespace pb
