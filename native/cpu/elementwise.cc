// The elementwise set: twins of src/backend/cpu/elementwise.ts (its oracle; same names, ints, floats).
//
//   binary   add sub mul div pow maximum minimum greater equal
//            outs [out], ins [a, b], ints [nd, ...outShape, ...aStrides, ...bStrides]   (stride 0: broadcast)
//   where    outs [out], ins [cond, a, b], ints [nd, ...outShape, ...condStrides, ...aStrides, ...bStrides]
//   fill     outs [out], floats [value]            copy / cast   outs [out], ins [x]  (dtype conversion)
//   affine   outs [out], ins [x], floats [scale, shift]          out = x·scale + shift
//   pow_scalar           outs [out], ins [x], floats [p]         out = xᵖ
//   pow_scalar_backward  outs [dx], ins [g, x], floats [p]       dx = g·p·x^(p−1)
//   unary    neg exp log sqrt abs sign tanh sigmoid relu gelu silu softplus    outs [out], ins [x]
//   <op>_backward  abs tanh sigmoid relu gelu silu softplus      outs [dx], ins [g, v]  (v = y for tanh and
//                  sigmoid, x for the rest)
//
// Numerics. The oracle computes in float64 and rounds once on the Float32Array store, so:
//  - float32 +, −, ×, ÷, comparisons, max/min and copies are done in float: bit-identical (a float op
//    is the double op rounded once); pow, affine and the arithmetic backward formulas are done in
//    double and rounded once, as the oracle does (bit-identical up to libm's pow);
//  - int32 arithmetic is done in double and stored with JavaScript's ToInt32 (what an Int32Array
//    store does: int32 mul wraps after double rounding, ÷ truncates, ÷0 gives 0);
//  - exp, log, tanh, softplus call the float32 libm (≤ 1–2 ulp); sigmoid, silu, gelu and the
//    backward of gelu, silu and softplus use the branch-free float32 exp/erfc below, which the
//    compiler vectorises: their error is ≤ 0.36 of the ELEMENTWISE tolerance 1e-6 + 1e-6·|y| (measured
//    against float64 on every 61st float32 bit pattern in [−40, 40], both instruction sets);
//  - the oracle's special values are kept: Math.max/min let NaN win and order −0 < +0, Math.sign
//    passes ±0 and NaN, relu(NaN) = 0, softplus is x above 20, Math.pow(±1, ±∞) = Math.pow(x, NaN) = NaN.
//
// Layout. A broadcast geometry is validated, then coalesced (size-1 dimensions dropped, dimensions
// merged where every operand is contiguous across them), and the output is walked row by row over
// its innermost dimension with an incremental multi-index (one division per thread, none per
// element). Each row takes a fast loop when the operands' inner strides are 1 (contiguous) or 0 (a
// broadcast scalar), a strided one otherwise; same-shape operands collapse to a single flat row.
// Work is split over the pool by output element (kElementwiseGrain, less for costly functions);
// every output element is written by one thread from its own inputs, so results do not depend on
// the thread count. In-place calls (out == an input, same layout) are safe: each element is read
// before it is written, and no other element reads it.
//
// Instruction sets: the library stays baseline x86-64 (SSE2); the unary maps are also compiled for
// AVX2+FMA and used when the library's instruction set (gemm_isa(): forcing "generic" for tests turns
// it off here too) allows — the vectorised exp/erfc run ~4× faster with 8 lanes and FMA. (FMA
// contraction there may move the double formulas of tanh/sigmoid_backward by a double ulp, which
// can flip their one float rounding.)
#include <limits>
#include <type_traits>

#include "common.h"
#include "simd.h"

namespace pb {
namespace cpu {
namespace {

// ---- JavaScript semantics of stores and Math functions --------------------------------------------

/** ToInt32: what storing a number into an Int32Array does (truncate, wrap mod 2³², NaN/±∞ → 0). */
inline int32_t js_to_int32(double v) {
  if (v > -2147483649.0 && v < 2147483648.0) return static_cast<int32_t>(v);   // in range: truncation
  if (!std::isfinite(v)) return 0;
  double m = std::fmod(std::trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

/** Math.pow: C's pow except pow(x, NaN) = NaN and pow(±1, ±∞) = NaN (C gives 1). */
inline double js_pow(double a, double b) {
  if (b != b || (std::isinf(b) && std::fabs(a) == 1.0)) return std::numeric_limits<double>::quiet_NaN();
  return std::pow(a, b);
}

/** Math.max / Math.min: NaN wins, and −0 < +0. */
template <class T>
inline T js_max(T a, T b) {
  T r = a > b ? a : b;
  if (a == b) r = std::signbit(a) ? b : a;   // ±0 tie: +0
  return (a != a || b != b) ? a + b : r;      // a NaN operand: NaN
}
template <class T>
inline T js_min(T a, T b) {
  T r = a < b ? a : b;
  if (a == b) r = std::signbit(a) ? a : b;   // ±0 tie: −0
  return (a != a || b != b) ? a + b : r;
}

/** The value stored into an output of type TO (Float32Array: round; Int32Array: ToInt32). */
template <class TO>
inline TO store(double v);
template <>
inline float store<float>(double v) { return static_cast<float>(v); }
template <>
inline int32_t store<int32_t>(double v) { return js_to_int32(v); }

// ---- branch-free float32 exp and normal CDF (the compiler vectorises loops that call them) -------

inline float as_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t as_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

/**
 * eˣ to ≤ 2 ulp over the whole float range (±∞, NaN, subnormal results included): n = round(x/ln 2)
 * by the 1.5·2²³ trick, r = x − n·ln 2 in two parts (Cody–Waite), eʳ by Cephes' expf polynomial,
 * then ·2ⁿ as two exponent-field factors 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that n ∈ [−150, 129] never leaves
 * the normal range of either factor (underflow to 0 and overflow to ∞ come out of the product).
 */
inline float exp_f(float x) {
  x = x < -104.f ? -104.f : x;   // e^−104 rounds to 0; NaN passes both clamps
  x = x > 89.f ? 89.f : x;       // e^89 overflows
  const float magic = 12582912.f;  // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
  const float t = x * 1.44269504088896341f + magic;
  const float n = t - magic;
  const int32_t ni = static_cast<int32_t>(as_bits(t) - as_bits(magic));
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  const int32_t h = ni >> 1;
  return p * as_float(static_cast<uint32_t>(h + 127) << 23) * as_float(static_cast<uint32_t>(ni - h + 127) << 23);
}

/**
 * Φ(x), the standard normal CDF, as ½·erfc(|x|/√2) (x < 0) or 1 − ½·erfc(|x|/√2): the tail is
 * computed directly (no 1 + erf cancellation for negative x). erfc(z), z ≥ 0, is Numerical Recipes'
 * erfcc, t·exp(−z² + P(t)) with t = 1/(1 + z/2) (relative error < 1.2e-7).
 */
inline float normal_cdf(float x) {
  const float z = std::fabs(x) * 0.70710678118654752f;
  const float t = 1.f / (1.f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float half_erfc = 0.5f * t * exp_f(p - z * z);
  return x < 0.f ? half_erfc : 1.f - half_erfc;
}

/** σ(x) and 1 − σ(x), both without cancellation, from e = e^−|x|: 1/(1 + e) and e/(1 + e). */
struct Sigmoid2 {
  float s, one_minus_s;
  explicit Sigmoid2(float x) {
    const float e = exp_f(-std::fabs(x));
    const float r = 1.f / (1.f + e);
    s = x >= 0.f ? r : e * r;   // NaN: e·r = NaN
    one_minus_s = x >= 0.f ? e * r : r;
  }
};

// ---- geometry --------------------------------------------------------------------------------------

std::string dims_str(const int64_t* v, int n) {
  std::string s = "[";
  for (int d = 0; d < n; d++) s += (d ? ", " : "") + std::to_string(v[d]);
  return s + "]";
}

/** A validated broadcast geometry over K operands, coalesced; the output is contiguous. */
template <int K>
struct Strided {
  int nd = 1;
  int64_t shape[kMaxDims] = {1};
  int64_t stride[K][kMaxDims] = {};
  int64_t numel = 0;
  /** Operand k's stride along the innermost dimension. */
  int64_t inner_stride(int k) const { return stride[k][nd - 1]; }
};

/**
 * Parses ints = [nd, ...shape, ...strides of each operand] (Bcast), checks it against the output's
 * and each input's element count (names[k] names input k), and coalesces it.
 */
template <int K>
Strided<K> strided_geometry(const KernelCall& c, const char* const* names) {
  const Bcast b(c, K);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  const std::string shape = dims_str(b.shape, b.nd);
  bool empty = false;
  for (int d = 0; d < b.nd; d++) {
    if (b.shape[d] < 0) c.fail("shape " + shape + " has a negative size at dimension " + std::to_string(d));
    empty = empty || b.shape[d] == 0;
  }
  for (int k = 0; k < K; k++)
    for (int d = 0; d < b.nd; d++)
      if (b.strides[k][d] < 0) c.fail(std::string(names[k]) + " strides " + dims_str(b.strides[k], b.nd) + " have a negative stride at dimension " + std::to_string(d));
  int64_t numel = empty ? 0 : 1;
  for (int d = 0; d < b.nd && !empty; d++)
    if (__builtin_mul_overflow(numel, b.shape[d], &numel)) c.fail("output has " + std::to_string(n) + " elements, shape " + shape + " needs more than 2⁶³");
  if (numel != n) c.fail("output has " + std::to_string(n) + " elements, shape " + shape + " needs " + std::to_string(numel));
  Strided<K> g;
  g.numel = numel;
  if (numel == 0) return g;
  // the largest offset each operand reads must lie inside it
  for (int k = 0; k < K; k++) {
    int64_t last = 0;
    for (int d = 0; d < b.nd; d++) {
      int64_t step = 0;
      if (__builtin_mul_overflow(b.shape[d] - 1, b.strides[k][d], &step) || __builtin_add_overflow(last, step, &last))
        c.fail(std::string(names[k]) + " strides " + dims_str(b.strides[k], b.nd) + " overflow over shape " + shape);
    }
    if (static_cast<int64_t>(c.in(k).numel) <= last)
      c.fail(std::string(names[k]) + " has " + std::to_string(c.in(k).numel) + " elements, strides " + dims_str(b.strides[k], b.nd) + " over shape " + shape + " read up to index " +
             std::to_string(last));
  }
  // coalesce: drop size-1 dimensions, merge a dimension into its outer neighbour where every
  // operand steps across the pair as across one dimension
  int nd = 0;
  for (int d = 0; d < b.nd; d++) {
    if (b.shape[d] == 1) continue;
    bool merge = nd > 0;
    for (int k = 0; k < K && merge; k++) merge = g.stride[k][nd - 1] == b.strides[k][d] * b.shape[d];
    if (merge) {
      g.shape[nd - 1] *= b.shape[d];
      for (int k = 0; k < K; k++) g.stride[k][nd - 1] = b.strides[k][d];
    } else {
      g.shape[nd] = b.shape[d];
      for (int k = 0; k < K; k++) g.stride[k][nd] = b.strides[k][d];
      nd++;
    }
  }
  if (nd == 0) {   // a single element
    nd = 1;
    g.shape[0] = 1;
    for (int k = 0; k < K; k++) g.stride[k][0] = 0;
  }
  g.nd = nd;
  return g;
}

/**
 * Calls row(o, off, len) for the output elements [begin, end) cut into pieces of the innermost
 * dimension: output elements o … o+len−1, operand k starting at off[k] (then inner_stride(k) apart).
 */
template <int K, class Row>
void walk_rows(const Strided<K>& g, int64_t begin, int64_t end, Row&& row) {
  const int nd = g.nd;
  const int64_t inner = g.shape[nd - 1];
  int64_t idx[kMaxDims] = {0}, base[K] = {0}, off[K];
  int64_t q = begin / inner, j = begin - q * inner;   // the only divisions: the chunk's start
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = q % g.shape[d];
    q /= g.shape[d];
    for (int k = 0; k < K; k++) base[k] += idx[d] * g.stride[k][d];
  }
  for (int64_t o = begin; o < end;) {
    const int64_t len = std::min(inner - j, end - o);
    for (int k = 0; k < K; k++) off[k] = base[k] + j * g.stride[k][nd - 1];
    row(o, static_cast<const int64_t*>(off), len);
    o += len;
    j = 0;
    for (int d = nd - 2; d >= 0; d--) {   // odometer over the outer dimensions
      for (int k = 0; k < K; k++) base[k] += g.stride[k][d];
      if (++idx[d] < g.shape[d]) break;
      for (int k = 0; k < K; k++) base[k] -= g.stride[k][d] * g.shape[d];
      idx[d] = 0;
    }
  }
}

// ---- binary ops --------------------------------------------------------------------------------------
// Each op works on float (float32 in and out) and on double (int32 or mixed dtypes, then store<TO>).

struct Add { template <class T> T operator()(T a, T b) const { return a + b; } };
struct Sub { template <class T> T operator()(T a, T b) const { return a - b; } };
struct Mul { template <class T> T operator()(T a, T b) const { return a * b; } };
struct Div { template <class T> T operator()(T a, T b) const { return a / b; } };
struct Pow {
  static constexpr int64_t grain = kElementwiseGrain / 16;   // a libm pow per element
  float operator()(float a, float b) const { return static_cast<float>(js_pow(a, b)); }   // Math.pow in double, rounded once
  double operator()(double a, double b) const { return js_pow(a, b); }
};
struct Maximum { template <class T> T operator()(T a, T b) const { return js_max(a, b); } };
struct Minimum { template <class T> T operator()(T a, T b) const { return js_min(a, b); } };
struct Greater { template <class T> T operator()(T a, T b) const { return a > b ? T(1) : T(0); } };
struct Equal { template <class T> T operator()(T a, T b) const { return a == b ? T(1) : T(0); } };

template <class Op, class = void>
struct GrainOf { static constexpr int64_t value = kElementwiseGrain; };
template <class Op>
struct GrainOf<Op, std::void_t<decltype(Op::grain)>> { static constexpr int64_t value = Op::grain; };

template <class Op, class TI, class TO>
inline TO apply(const Op& op, TI a, TI b) {
  if constexpr (std::is_same_v<TI, float> && std::is_same_v<TO, float>) return op(a, b);
  else return store<TO>(op(static_cast<double>(a), static_cast<double>(b)));
}

/** One row: out[i] = op(a[i·sa], b[i·sb]), i < n, with loops for the contiguous and scalar cases. */
template <class Op, class TI, class TO>
void binary_row(TO* __restrict out, const TI* __restrict a, int64_t sa, const TI* __restrict b, int64_t sb, int64_t n) {
  const Op op{};
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op, TI, TO>(op, a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const TI bv = b[0];
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op, TI, TO>(op, a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const TI av = a[0];
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op, TI, TO>(op, av, b[i]);
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op, TI, TO>(op, a[i * sa], b[i * sb]);
  }
}

template <class Op, class TI, class TO>
void binary_typed(const KernelCall& c, const Strided<2>& g) {
  TO* out = static_cast<TO*>(c.out(0).ptr);
  const TI* a = static_cast<const TI*>(c.in(0).ptr);
  const TI* b = static_cast<const TI*>(c.in(1).ptr);
  const int64_t sa = g.inner_stride(0), sb = g.inner_stride(1);
  parallel_for(g.numel, GrainOf<Op>::value, [&](int64_t begin, int64_t end) {
    walk_rows(g, begin, end, [&](int64_t o, const int64_t* off, int64_t len) { binary_row<Op, TI, TO>(out + o, a + off[0], sa, b + off[1], sb, len); });
  });
}

template <class Op>
void binary(KernelCall& c) {
  static const char* const names[] = {"input a", "input b"};
  if (c.in(0).dtype != c.in(1).dtype)
    c.fail(std::string("inputs a and b have different dtypes (") + dtype_name(c.in(0).dtype) + ", " + dtype_name(c.in(1).dtype) + ")");
  const Strided<2> g = strided_geometry<2>(c, names);
  if (g.numel == 0) return;
  const bool inF = c.in(0).dtype == F32, outF = c.out(0).dtype == F32;
  if (inF && outF) binary_typed<Op, float, float>(c, g);
  else if (!inF && !outF) binary_typed<Op, int32_t, int32_t>(c, g);
  else if (inF) binary_typed<Op, float, int32_t>(c, g);
  else binary_typed<Op, int32_t, float>(c, g);
}

// ---- where -------------------------------------------------------------------------------------------

template <class TC, class T>
void where_row(T* __restrict out, const TC* __restrict cond, int64_t sc, const T* __restrict a, int64_t sa, const T* __restrict b, int64_t sb, int64_t n) {
  // both values are loaded before the choice, so the loop is a vector blend; NaN ≠ 0 picks a, as the oracle
  if (sc == 1 && sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) {
      const T av = a[i], bv = b[i];
      out[i] = cond[i] != 0 ? av : bv;
    }
  } else if (sa == 0 && sb == 1) {   // masked_fill: a is the fill value, b the input
    const T av = a[0];
    for (int64_t i = 0; i < n; i++) {
      const T bv = b[i];
      out[i] = cond[i * sc] != 0 ? av : bv;
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      const T av = a[i * sa], bv = b[i * sb];
      out[i] = cond[i * sc] != 0 ? av : bv;
    }
  }
}

template <class TC, class T>
void where_typed(const KernelCall& c, const Strided<3>& g) {
  T* out = static_cast<T*>(c.out(0).ptr);
  const TC* cond = static_cast<const TC*>(c.in(0).ptr);
  const T* a = static_cast<const T*>(c.in(1).ptr);
  const T* b = static_cast<const T*>(c.in(2).ptr);
  const int64_t sc = g.inner_stride(0), sa = g.inner_stride(1), sb = g.inner_stride(2);
  parallel_for(g.numel, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    walk_rows(g, begin, end, [&](int64_t o, const int64_t* off, int64_t len) { where_row<TC, T>(out + o, cond + off[0], sc, a + off[1], sa, b + off[2], sb, len); });
  });
}

void where(KernelCall& c) {
  static const char* const names[] = {"cond", "input a", "input b"};
  const int dt = c.out(0).dtype;
  if (c.in(1).dtype != dt || c.in(2).dtype != dt)
    c.fail(std::string("a, b and the output must have one dtype, got ") + dtype_name(c.in(1).dtype) + ", " + dtype_name(c.in(2).dtype) + " → " + dtype_name(dt));
  const Strided<3> g = strided_geometry<3>(c, names);
  if (g.numel == 0) return;
  const bool cf = c.in(0).dtype == F32, vf = dt == F32;
  if (cf && vf) where_typed<float, float>(c, g);
  else if (cf) where_typed<float, int32_t>(c, g);
  else if (vf) where_typed<int32_t, float>(c, g);
  else where_typed<int32_t, int32_t>(c, g);
}

// ---- fill, copy, cast, affine, pow_scalar ----------------------------------------------------------

void fill(KernelCall& c) {
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  const double v = c.f(0);
  if (c.out(0).dtype == F32) {
    float* out = c.outF(0);
    const float fv = static_cast<float>(v);   // Float32Array.fill rounds the value once
    parallel_for(n, kElementwiseGrain * 4, [&](int64_t b, int64_t e) { std::fill(out + b, out + e, fv); });
  } else {
    int32_t* out = c.outI(0);
    const int32_t iv = js_to_int32(v);
    parallel_for(n, kElementwiseGrain * 4, [&](int64_t b, int64_t e) { std::fill(out + b, out + e, iv); });
  }
}

/** copy and cast: the same dtype is a byte copy; float32 → int32 truncates with ToInt32 (Math.trunc,
 *  then the Int32Array store); int32 → float32 rounds to nearest. */
void convert(KernelCall& c) {
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  if (static_cast<int64_t>(c.in(0).numel) != n) c.fail("input has " + std::to_string(c.in(0).numel) + " elements, the output " + std::to_string(n));
  if (n == 0) return;
  if (c.out(0).dtype == c.in(0).dtype) {
    char* out = static_cast<char*>(c.out(0).ptr);
    const char* x = static_cast<const char*>(c.in(0).ptr);
    if (out == x) return;
    parallel_for(n, kElementwiseGrain * 4, [&](int64_t b, int64_t e) { std::memmove(out + b * 4, x + b * 4, static_cast<size_t>(e - b) * 4); });
  } else if (c.out(0).dtype == I32) {
    int32_t* out = c.outI(0);
    const float* x = c.inF(0);
    parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) out[i] = js_to_int32(x[i]);
    });
  } else {
    float* out = c.outF(0);
    const int32_t* x = c.inI(0);
    parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) out[i] = static_cast<float>(x[i]);
    });
  }
}

// ---- unary maps (float32): out[i] = F(x[i]) and dx[i] = F(g[i], v[i]) ----------------------------
// Each functor gives its grain: the elements per parallel chunk for ≳ 20 µs of work.

constexpr int64_t kCheap = kElementwiseGrain;           // a few operations (memory-bound)
constexpr int64_t kVectorMath = kElementwiseGrain / 4;  // the vectorised exp / erfc above
constexpr int64_t kLibm = kElementwiseGrain / 16;       // a scalar libm call per element

template <class F>
void map1(float* __restrict out, const float* __restrict x, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}
template <class F>
void map2(float* __restrict out, const float* __restrict g, const float* __restrict v, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; i++) out[i] = f(g[i], v[i]);
}
#if defined(PB_CPU_X86)
// the same loops compiled for AVX2+FMA (the functors inline into them)
template <class F>
__attribute__((target("avx2,fma"))) void map1_avx2(float* __restrict out, const float* __restrict x, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}
template <class F>
__attribute__((target("avx2,fma"))) void map2_avx2(float* __restrict out, const float* __restrict g, const float* __restrict v, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; i++) out[i] = f(g[i], v[i]);
}
#endif

/** True when the AVX2+FMA loops may run: the library's instruction set is not "generic". */
bool wide_isa() {
  return simd_isa() != SimdIsa::Generic;
}

template <class F>
void unary(KernelCall& c) {
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* out = c.outF(0);
  const float* x = c.inF(0, n);
  const F f{};
  const bool wide = wide_isa();
  parallel_for(n, F::grain, [&](int64_t b, int64_t e) {
#if defined(PB_CPU_X86)
    if (wide) return map1_avx2(out + b, x + b, e - b, f);
#endif
    map1(out + b, x + b, e - b, f);
  });
  (void)wide;
}

template <class F>
void unary_backward(KernelCall& c) {
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* dx = c.outF(0);
  const float* g = c.inF(0, n);
  const float* v = c.inF(1, n);
  const F f{};
  const bool wide = wide_isa();
  parallel_for(n, F::grain, [&](int64_t b, int64_t e) {
#if defined(PB_CPU_X86)
    if (wide) return map2_avx2(dx + b, g + b, v + b, e - b, f);
#endif
    map2(dx + b, g + b, v + b, e - b, f);
  });
  (void)wide;
}

struct Neg { static constexpr int64_t grain = kCheap; float operator()(float x) const { return -x; } };
struct Exp { static constexpr int64_t grain = kLibm; float operator()(float x) const { return std::exp(x); } };
struct Log { static constexpr int64_t grain = kLibm; float operator()(float x) const { return std::log(x); } };
struct Sqrt { static constexpr int64_t grain = kCheap; float operator()(float x) const { return std::sqrt(x); } };   // correctly rounded
struct Abs { static constexpr int64_t grain = kCheap; float operator()(float x) const { return std::fabs(x); } };
// Math.sign: ±0 and NaN pass through
struct Sign { static constexpr int64_t grain = kCheap; float operator()(float x) const { return x > 0.f ? 1.f : x < 0.f ? -1.f : x; } };
struct Tanh { static constexpr int64_t grain = kLibm; float operator()(float x) const { return std::tanh(x); } };
struct SigmoidF { static constexpr int64_t grain = kVectorMath; float operator()(float x) const { return Sigmoid2(x).s; } };
// relu(NaN) = 0 and relu(−0) = +0, as the oracle's x > 0 ? x : 0
struct Relu { static constexpr int64_t grain = kCheap; float operator()(float x) const { return x > 0.f ? x : 0.f; } };
// exact GELU: x·Φ(x)
struct Gelu { static constexpr int64_t grain = kVectorMath; float operator()(float x) const { return x * normal_cdf(x); } };
struct Silu { static constexpr int64_t grain = kVectorMath; float operator()(float x) const { return x * Sigmoid2(x).s; } };
// PyTorch's softplus (beta 1, threshold 20): log(1 + eˣ), x itself above 20
struct Softplus { static constexpr int64_t grain = kLibm; float operator()(float x) const { return x > 20.f ? x : std::log1p(std::exp(x)); } };

struct AbsB { static constexpr int64_t grain = kCheap; float operator()(float g, float x) const { return x > 0.f ? g : x < 0.f ? -g : 0.f; } };
// the two that read y: the oracle's formula in double, rounded once (bit-identical)
struct TanhB {
  static constexpr int64_t grain = kCheap;
  float operator()(float g, float y) const { const double yd = y; return static_cast<float>(g * (1.0 - yd * yd)); }
};
struct SigmoidB {
  static constexpr int64_t grain = kCheap;
  float operator()(float g, float y) const { const double yd = y; return static_cast<float>(g * yd * (1.0 - yd)); }
};
struct ReluB { static constexpr int64_t grain = kCheap; float operator()(float g, float x) const { return x > 0.f ? g : 0.f; } };
// Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)
struct GeluB {
  static constexpr int64_t grain = kVectorMath;
  float operator()(float g, float x) const { return g * (normal_cdf(x) + x * 0.39894228040143268f * exp_f(-0.5f * x * x)); }
};
// σ(x)·(1 + x·(1 − σ(x)))
struct SiluB {
  static constexpr int64_t grain = kVectorMath;
  float operator()(float g, float x) const { const Sigmoid2 s(x); return g * s.s * (1.f + x * s.one_minus_s); }
};
struct SoftplusB {
  static constexpr int64_t grain = kVectorMath;
  float operator()(float g, float x) const { return x > 20.f ? g : g * Sigmoid2(x).s; }
};

// x·scale + shift in double, rounded once (the oracle's arithmetic)
struct Affine {
  static constexpr int64_t grain = kCheap;
  double scale, shift;
  float operator()(float x) const { return static_cast<float>(x * scale + shift); }
};

void affine(KernelCall& c) {
  c.need_floats(2);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* out = c.outF(0);
  const float* x = c.inF(0, n);
  const Affine f{c.f(0), c.f(1)};
  parallel_for(n, Affine::grain, [&](int64_t b, int64_t e) { map1(out + b, x + b, e - b, f); });
}

void pow_scalar(KernelCall& c) {
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* out = c.outF(0);
  const float* x = c.inF(0, n);
  const double p = c.f(0);
  if (p == 2) {   // x·x in float is the double product rounded once
    parallel_for(n, kCheap, [&](int64_t b, int64_t e) { map1(out + b, x + b, e - b, [](float v) { return v * v; }); });
  } else {
    parallel_for(n, kLibm, [&](int64_t b, int64_t e) { map1(out + b, x + b, e - b, [p](float v) { return static_cast<float>(js_pow(v, p)); }); });
  }
}

// g·p·x^(p−1), evaluated left to right in double as the oracle
void pow_scalar_backward(KernelCall& c) {
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* dx = c.outF(0);
  const float* g = c.inF(0, n);
  const float* x = c.inF(1, n);
  const double p = c.f(0);
  parallel_for(n, kLibm, [&](int64_t b, int64_t e) {
    map2(dx + b, g + b, x + b, e - b, [p](float gv, float xv) { return static_cast<float>(gv * p * js_pow(xv, p - 1)); });
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

using namespace pb::cpu;

REGISTER_KERNEL("add", 1, 2, binary<Add>);
REGISTER_KERNEL("sub", 1, 2, binary<Sub>);
REGISTER_KERNEL("mul", 1, 2, binary<Mul>);
REGISTER_KERNEL("div", 1, 2, binary<Div>);
REGISTER_KERNEL("pow", 1, 2, binary<Pow>);
REGISTER_KERNEL("maximum", 1, 2, binary<Maximum>);
REGISTER_KERNEL("minimum", 1, 2, binary<Minimum>);
REGISTER_KERNEL("greater", 1, 2, binary<Greater>);
REGISTER_KERNEL("equal", 1, 2, binary<Equal>);
REGISTER_KERNEL("where", 1, 3, where);
REGISTER_KERNEL("fill", 1, 0, fill);
REGISTER_KERNEL("copy", 1, 1, convert);
REGISTER_KERNEL("cast", 1, 1, convert);
REGISTER_KERNEL("affine", 1, 1, affine);
REGISTER_KERNEL("pow_scalar", 1, 1, pow_scalar);
REGISTER_KERNEL("pow_scalar_backward", 1, 2, pow_scalar_backward);
REGISTER_KERNEL("neg", 1, 1, unary<Neg>);
REGISTER_KERNEL("exp", 1, 1, unary<Exp>);
REGISTER_KERNEL("log", 1, 1, unary<Log>);
REGISTER_KERNEL("sqrt", 1, 1, unary<Sqrt>);
REGISTER_KERNEL("abs", 1, 1, unary<Abs>);
REGISTER_KERNEL("abs_backward", 1, 2, unary_backward<AbsB>);
REGISTER_KERNEL("sign", 1, 1, unary<Sign>);
REGISTER_KERNEL("tanh", 1, 1, unary<Tanh>);
REGISTER_KERNEL("tanh_backward", 1, 2, unary_backward<TanhB>);
REGISTER_KERNEL("sigmoid", 1, 1, unary<SigmoidF>);
REGISTER_KERNEL("sigmoid_backward", 1, 2, unary_backward<SigmoidB>);
REGISTER_KERNEL("relu", 1, 1, unary<Relu>);
REGISTER_KERNEL("relu_backward", 1, 2, unary_backward<ReluB>);
REGISTER_KERNEL("gelu", 1, 1, unary<Gelu>);
REGISTER_KERNEL("gelu_backward", 1, 2, unary_backward<GeluB>);
REGISTER_KERNEL("silu", 1, 1, unary<Silu>);
REGISTER_KERNEL("silu_backward", 1, 2, unary_backward<SiluB>);
REGISTER_KERNEL("softplus", 1, 1, unary<Softplus>);
REGISTER_KERNEL("softplus_backward", 1, 2, unary_backward<SoftplusB>);
