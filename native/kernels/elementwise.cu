// Elementwise kernels: the twins of src/backend/cpu/elementwise.ts (same names, same ints/floats).
//
//   binary  add sub mul div pow maximum minimum greater equal
//           outs [out], ins [a, b], ints [nd, ...outShape, ...aStrides, ...bStrides]
//   where   outs [out], ins [cond, a, b], ints [nd, ...shape, ...condStrides, ...aStrides, ...bStrides]
//   fill    outs [out], floats [value]           copy / cast   outs [out], ins [x]
//   affine  outs [out], ins [x], floats [scale, shift]   (x·scale + shift)
//   pow_scalar(_backward)  floats [p]
//   unary   neg exp log sqrt abs sign tanh sigmoid relu gelu silu softplus   outs [out], ins [x]
//   <name>_backward  outs [dx], ins [g, v]  (v = y for tanh/sigmoid, x for the rest)
//
// float32 arithmetic is done in float (add/sub/mul/div are then bit-identical to the CPU's
// double-then-round; transcendental functions differ by an ulp or two). int32 arithmetic is
// done in double and stored with JavaScript's ToInt32, exactly what an Int32Array does.
#include "../src/common.cuh"

namespace pb {
namespace {

// ---- binary ops ------------------------------------------------------------------------------------
struct AddOp { __device__ float operator()(float a, float b) const { return a + b; } __device__ double operator()(double a, double b) const { return a + b; } };
struct SubOp { __device__ float operator()(float a, float b) const { return a - b; } __device__ double operator()(double a, double b) const { return a - b; } };
struct MulOp { __device__ float operator()(float a, float b) const { return a * b; } __device__ double operator()(double a, double b) const { return a * b; } };
struct DivOp { __device__ float operator()(float a, float b) const { return a / b; } __device__ double operator()(double a, double b) const { return a / b; } };
struct PowOp {
  __device__ float operator()(float a, float b) const { return powf(a, b); }
  __device__ double operator()(double a, double b) const { return pow(a, b); }
};
// Math.max / Math.min: NaN if either is NaN
struct MaxOp {
  __device__ float operator()(float a, float b) const { return (a != a || b != b) ? NAN : (a > b ? a : b); }
  __device__ double operator()(double a, double b) const { return (a != a || b != b) ? NAN : (a > b ? a : b); }
};
struct MinOp {
  __device__ float operator()(float a, float b) const { return (a != a || b != b) ? NAN : (a < b ? a : b); }
  __device__ double operator()(double a, double b) const { return (a != a || b != b) ? NAN : (a < b ? a : b); }
};
struct GreaterOp {
  __device__ float operator()(float a, float b) const { return a > b ? 1.f : 0.f; }
  __device__ double operator()(double a, double b) const { return a > b ? 1.0 : 0.0; }
};
struct EqualOp {
  __device__ float operator()(float a, float b) const { return a == b ? 1.f : 0.f; }
  __device__ double operator()(double a, double b) const { return a == b ? 1.0 : 0.0; }
};

// float inputs compute in float; int32 inputs in double (then ToInt32 / rounding on store)
template <typename Op, typename TOut>
struct BinApply;
template <typename Op>
struct BinApply<Op, float> {
  __device__ static float f32(Op op, float a, float b) { return op(a, b); }
  __device__ static float i32(Op op, int32_t a, int32_t b) { return static_cast<float>(op(static_cast<double>(a), static_cast<double>(b))); }
};
template <typename Op>
struct BinApply<Op, int32_t> {
  __device__ static int32_t f32(Op op, float a, float b) { return js_to_int32(op(a, b)); }
  __device__ static int32_t i32(Op op, int32_t a, int32_t b) { return js_to_int32(op(static_cast<double>(a), static_cast<double>(b))); }
};
template <typename Op, typename TOut>
__device__ __forceinline__ TOut bin(Op op, float a, float b) { return BinApply<Op, TOut>::f32(op, a, b); }
template <typename Op, typename TOut>
__device__ __forceinline__ TOut bin(Op op, int32_t a, int32_t b) { return BinApply<Op, TOut>::i32(op, a, b); }

template <typename Op, typename TIn, typename TOut>
__global__ void binary_flat_kernel(TOut* __restrict__ out, const TIn* __restrict__ a, const TIn* __restrict__ b, int64_t n) {
  Op op;
  PB_GRID_STRIDE(i, n) out[i] = bin<Op, TOut>(op, a[i], b[i]);
}

template <typename Op, typename TIn, typename TOut>
__global__ void binary_bcast_kernel(TOut* __restrict__ out, const TIn* __restrict__ a, const TIn* __restrict__ b, Bcast g) {
  Op op;
  PB_GRID_STRIDE(i, g.n) {
    int64_t off[2];
    bcast_offsets<2>(g, i, off);
    out[i] = bin<Op, TOut>(op, a[off[0]], b[off[1]]);
  }
}

template <typename Op, typename TIn, typename TOut>
void binary_typed(KernelCall& c, const Bcast& g, bool flat) {
  TOut* out = static_cast<TOut*>(c.out(0).ptr);
  const TIn* a = static_cast<const TIn*>(c.in(0).ptr);
  const TIn* b = static_cast<const TIn*>(c.in(1).ptr);
  if (flat) KERNEL_LAUNCH((binary_flat_kernel<Op, TIn, TOut>), grid_1d(g.n), 256, 0, c.stream)(out, a, b, g.n);
  else KERNEL_LAUNCH((binary_bcast_kernel<Op, TIn, TOut>), grid_1d(g.n), 256, 0, c.stream)(out, a, b, g);
}

template <typename Op>
void binary_launcher(KernelCall& c) {
  Bcast g = parse_bcast(c, 2);
  if (static_cast<int64_t>(c.out(0).numel) != g.n) c.fail("output has " + std::to_string(c.out(0).numel) + " elements, the shape needs " + std::to_string(g.n));
  if (c.in(0).dtype != c.in(1).dtype) c.fail(std::string("inputs have different dtypes (") + dtype_name(c.in(0).dtype) + ", " + dtype_name(c.in(1).dtype) + ")");
  c.need_at_least(c.in(0), "input a", bcast_extent(g, 0));
  c.need_at_least(c.in(1), "input b", bcast_extent(g, 1));
  if (g.n == 0) return;
  const bool flat = bcast_flat(g, 2);
  const bool inF = c.in(0).dtype == F32, outF = c.out(0).dtype == F32;
  if (inF && outF) binary_typed<Op, float, float>(c, g, flat);
  else if (!inF && !outF) binary_typed<Op, int32_t, int32_t>(c, g, flat);
  else if (inF) binary_typed<Op, float, int32_t>(c, g, flat);
  else binary_typed<Op, int32_t, float>(c, g, flat);
}

// ---- where ---------------------------------------------------------------------------------------
template <typename TC, typename T>
__global__ void where_kernel(T* __restrict__ out, const TC* __restrict__ cond, const T* __restrict__ a, const T* __restrict__ b, Bcast g) {
  PB_GRID_STRIDE(i, g.n) {
    int64_t off[3];
    bcast_offsets<3>(g, i, off);
    out[i] = cond[off[0]] != 0 ? a[off[1]] : b[off[2]];
  }
}

void where_launcher(KernelCall& c) {
  Bcast g = parse_bcast(c, 3);
  if (static_cast<int64_t>(c.out(0).numel) != g.n) c.fail("output size does not match the shape");
  if (c.in(1).dtype != c.out(0).dtype || c.in(2).dtype != c.out(0).dtype) c.fail("a, b and the output must have one dtype");
  for (int k = 0; k < 3; k++) c.need_at_least(c.in(k), k == 0 ? "cond" : k == 1 ? "a" : "b", bcast_extent(g, k));
  if (g.n == 0) return;
  const bool cf = c.in(0).dtype == F32, vf = c.out(0).dtype == F32;
  const unsigned blocks = grid_1d(g.n);
  if (cf && vf) KERNEL_LAUNCH((where_kernel<float, float>), blocks, 256, 0, c.stream)(c.outF(0), c.inF(0), c.inF(1), c.inF(2), g);
  else if (cf) KERNEL_LAUNCH((where_kernel<float, int32_t>), blocks, 256, 0, c.stream)(c.outI(0), c.inF(0), c.inI(1), c.inI(2), g);
  else if (vf) KERNEL_LAUNCH((where_kernel<int32_t, float>), blocks, 256, 0, c.stream)(c.outF(0), c.inI(0), c.inF(1), c.inF(2), g);
  else KERNEL_LAUNCH((where_kernel<int32_t, int32_t>), blocks, 256, 0, c.stream)(c.outI(0), c.inI(0), c.inI(1), c.inI(2), g);
}

// ---- fill, copy, cast, affine, pow_scalar ---------------------------------------------------------
template <typename T>
__global__ void fill_kernel(T* __restrict__ out, T v, int64_t n) {
  PB_GRID_STRIDE(i, n) out[i] = v;
}

void fill_launcher(KernelCall& c) {
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  if (n == 0) return;
  if (c.out(0).dtype == F32) KERNEL_LAUNCH(fill_kernel<float>, grid_1d(n), 256, 0, c.stream)(c.outF(0), static_cast<float>(c.f(0)), n);
  else KERNEL_LAUNCH(fill_kernel<int32_t>, grid_1d(n), 256, 0, c.stream)(c.outI(0), js_to_int32(c.f(0)), n);
}

__global__ void f32_to_i32_kernel(int32_t* __restrict__ out, const float* __restrict__ x, int64_t n) {
  PB_GRID_STRIDE(i, n) out[i] = js_to_int32(static_cast<double>(x[i]));  // Math.trunc, then ToInt32
}
__global__ void i32_to_f32_kernel(float* __restrict__ out, const int32_t* __restrict__ x, int64_t n) {
  PB_GRID_STRIDE(i, n) out[i] = static_cast<float>(x[i]);
}

/** copy and cast: same dtype → a device-to-device copy; otherwise the conversion an Int32Array/Float32Array.set does. */
void convert_launcher(KernelCall& c) {
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  if (static_cast<int64_t>(c.in(0).numel) != n) c.fail("input has " + std::to_string(c.in(0).numel) + " elements, output " + std::to_string(n));
  if (n == 0) return;
  if (c.out(0).dtype == c.in(0).dtype) rt::copy_d2d(c.out(0).ptr, c.in(0).ptr, static_cast<size_t>(n) * 4, c.stream);
  else if (c.out(0).dtype == I32) KERNEL_LAUNCH(f32_to_i32_kernel, grid_1d(n), 256, 0, c.stream)(c.outI(0), c.inF(0), n);
  else KERNEL_LAUNCH(i32_to_f32_kernel, grid_1d(n), 256, 0, c.stream)(c.outF(0), c.inI(0), n);
}

__global__ void affine_kernel(float* __restrict__ out, const float* __restrict__ x, float scale, float shift, int64_t n) {
  PB_GRID_STRIDE(i, n) out[i] = x[i] * scale + shift;
}

void affine_launcher(KernelCall& c) {
  c.need_floats(2);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  const float* x = c.inF(0, n);
  if (n) KERNEL_LAUNCH(affine_kernel, grid_1d(n), 256, 0, c.stream)(c.outF(0), x, static_cast<float>(c.f(0)), static_cast<float>(c.f(1)), n);
}

__global__ void pow_scalar_kernel(float* __restrict__ out, const float* __restrict__ x, float p, int64_t n) {
  if (p == 2.f) {
    PB_GRID_STRIDE(i, n) out[i] = x[i] * x[i];
  } else {
    PB_GRID_STRIDE(i, n) out[i] = powf(x[i], p);
  }
}

__global__ void pow_scalar_backward_kernel(float* __restrict__ dx, const float* __restrict__ g, const float* __restrict__ x, float p, int64_t n) {
  PB_GRID_STRIDE(i, n) dx[i] = g[i] * p * powf(x[i], p - 1.f);
}

void pow_scalar_launcher(KernelCall& c) {
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  const float* x = c.inF(0, n);
  if (n) KERNEL_LAUNCH(pow_scalar_kernel, grid_1d(n), 256, 0, c.stream)(c.outF(0), x, static_cast<float>(c.f(0)), n);
}

void pow_scalar_backward_launcher(KernelCall& c) {
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  const float* g = c.inF(0, n);
  const float* x = c.inF(1, n);
  if (n) KERNEL_LAUNCH(pow_scalar_backward_kernel, grid_1d(n), 256, 0, c.stream)(c.outF(0), g, x, static_cast<float>(c.f(0)), n);
}

// ---- unary activations and their backward --------------------------------------------------------
struct NegF { __device__ float operator()(float x) const { return -x; } };
struct ExpF { __device__ float operator()(float x) const { return expf(x); } };
struct LogF { __device__ float operator()(float x) const { return logf(x); } };
struct SqrtF { __device__ float operator()(float x) const { return sqrtf(x); } };
struct AbsF { __device__ float operator()(float x) const { return fabsf(x); } };
struct SignF { __device__ float operator()(float x) const { return x > 0.f ? 1.f : (x < 0.f ? -1.f : x); } };  // Math.sign: ±0 and NaN pass through
struct TanhF { __device__ float operator()(float x) const { return tanhf(x); } };
struct SigmoidF { __device__ float operator()(float x) const { return sigmoidf_(x); } };
struct ReluF { __device__ float operator()(float x) const { return x > 0.f ? x : 0.f; } };
// exact GELU: x·Φ(x) = ½x(1 + erf(x/√2))
struct GeluF { __device__ float operator()(float x) const { return 0.5f * x * (1.f + erff(x * 0.70710678118654752f)); } };
struct SiluF { __device__ float operator()(float x) const { return x * sigmoidf_(x); } };
// PyTorch's softplus (beta 1, threshold 20)
struct SoftplusF { __device__ float operator()(float x) const { return x > 20.f ? x : log1pf(expf(x)); } };

struct AbsB { __device__ float operator()(float g, float x) const { return x > 0.f ? g : (x < 0.f ? -g : 0.f); } };
struct TanhB { __device__ float operator()(float g, float y) const { return g * (1.f - y * y); } };
struct SigmoidB { __device__ float operator()(float g, float y) const { return g * y * (1.f - y); } };
struct ReluB { __device__ float operator()(float g, float x) const { return x > 0.f ? g : 0.f; } };
struct GeluB {
  __device__ float operator()(float g, float x) const {
    const float cdf = 0.5f * (1.f + erff(x * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * expf(-0.5f * x * x);  // 1/√(2π)·e^(−x²/2)
    return g * (cdf + x * pdf);
  }
};
struct SiluB { __device__ float operator()(float g, float x) const { const float s = sigmoidf_(x); return g * s * (1.f + x * (1.f - s)); } };
struct SoftplusB { __device__ float operator()(float g, float x) const { return x > 20.f ? g : g * sigmoidf_(x); } };

template <typename F>
__global__ void unary_kernel(float* __restrict__ out, const float* __restrict__ x, int64_t n) {
  F f;
  PB_GRID_STRIDE(i, n) out[i] = f(x[i]);
}

template <typename F>
__global__ void unary_backward_kernel(float* __restrict__ dx, const float* __restrict__ g, const float* __restrict__ v, int64_t n) {
  F f;
  PB_GRID_STRIDE(i, n) dx[i] = f(g[i], v[i]);
}

template <typename F>
void unary_launcher(KernelCall& c) {
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* out = c.outF(0);
  const float* x = c.inF(0, n);
  if (n) KERNEL_LAUNCH(unary_kernel<F>, grid_1d(n), 256, 0, c.stream)(out, x, n);
}

template <typename F>
void unary_backward_launcher(KernelCall& c) {
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* dx = c.outF(0);
  const float* g = c.inF(0, n);
  const float* v = c.inF(1, n);
  if (n) KERNEL_LAUNCH(unary_backward_kernel<F>, grid_1d(n), 256, 0, c.stream)(dx, g, v, n);
}

}  // namespace
}  // namespace pb

using namespace pb;

REGISTER_KERNEL("add", 1, 2, binary_launcher<AddOp>);
REGISTER_KERNEL("sub", 1, 2, binary_launcher<SubOp>);
REGISTER_KERNEL("mul", 1, 2, binary_launcher<MulOp>);
REGISTER_KERNEL("div", 1, 2, binary_launcher<DivOp>);
REGISTER_KERNEL("pow", 1, 2, binary_launcher<PowOp>);
REGISTER_KERNEL("maximum", 1, 2, binary_launcher<MaxOp>);
REGISTER_KERNEL("minimum", 1, 2, binary_launcher<MinOp>);
REGISTER_KERNEL("greater", 1, 2, binary_launcher<GreaterOp>);
REGISTER_KERNEL("equal", 1, 2, binary_launcher<EqualOp>);
REGISTER_KERNEL("where", 1, 3, where_launcher);
REGISTER_KERNEL("fill", 1, 0, fill_launcher);
REGISTER_KERNEL("copy", 1, 1, convert_launcher);
REGISTER_KERNEL("cast", 1, 1, convert_launcher);
REGISTER_KERNEL("affine", 1, 1, affine_launcher);
REGISTER_KERNEL("pow_scalar", 1, 1, pow_scalar_launcher);
REGISTER_KERNEL("pow_scalar_backward", 1, 2, pow_scalar_backward_launcher);
REGISTER_KERNEL("neg", 1, 1, unary_launcher<NegF>);
REGISTER_KERNEL("exp", 1, 1, unary_launcher<ExpF>);
REGISTER_KERNEL("log", 1, 1, unary_launcher<LogF>);
REGISTER_KERNEL("sqrt", 1, 1, unary_launcher<SqrtF>);
REGISTER_KERNEL("abs", 1, 1, unary_launcher<AbsF>);
REGISTER_KERNEL("abs_backward", 1, 2, unary_backward_launcher<AbsB>);
REGISTER_KERNEL("sign", 1, 1, unary_launcher<SignF>);
REGISTER_KERNEL("tanh", 1, 1, unary_launcher<TanhF>);
REGISTER_KERNEL("tanh_backward", 1, 2, unary_backward_launcher<TanhB>);
REGISTER_KERNEL("sigmoid", 1, 1, unary_launcher<SigmoidF>);
REGISTER_KERNEL("sigmoid_backward", 1, 2, unary_backward_launcher<SigmoidB>);
REGISTER_KERNEL("relu", 1, 1, unary_launcher<ReluF>);
REGISTER_KERNEL("relu_backward", 1, 2, unary_backward_launcher<ReluB>);
REGISTER_KERNEL("gelu", 1, 1, unary_launcher<GeluF>);
REGISTER_KERNEL("gelu_backward", 1, 2, unary_backward_launcher<GeluB>);
REGISTER_KERNEL("silu", 1, 1, unary_launcher<SiluF>);
REGISTER_KERNEL("silu_backward", 1, 2, unary_backward_launcher<SiluB>);
REGISTER_KERNEL("softplus", 1, 1, unary_launcher<SoftplusF>);
REGISTER_KERNEL("softplus_backward", 1, 2, unary_backward_launcher<SoftplusB>);
