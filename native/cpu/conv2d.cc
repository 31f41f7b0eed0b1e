// 2-D convolution (NCHW cross-correlation, groups = 1, any kernel size, stride and zero padding,
// no dilation — exactly what the oracle src/backend/cpu/conv.ts supports) and its two backwards:
//
//   conv2d                  outs [y [B,OC,OH,OW]], ins [x [B,C,H,W], w [OC,C,KH,KW], b [OC] (hasBias)]
//   conv2d_backward_input   outs [dx [B,C,H,W]], ins [gy [B,OC,OH,OW], w]
//   conv2d_backward_weight  outs [dw [OC,C,KH,KW], db [OC] (written when hasBias)], ins [gy, x]
//     ints [B, C, H, W, OC, KH, KW, OH, OW, strideH, strideW, padH, padW, hasBias]
//
//   y[n,k,oh,ow] = b[k] + Σ_c Σ_kh Σ_kw w[k,c,kh,kw] · x[n,c, oh·sh−ph+kh, ow·sw−pw+kw]   (padding taps skipped)
//
// Every matrix product goes through sgemm (gemm.h). With P = OH·OW output positions, HW input
// pixels and Kd = C·KH·KW, three routes:
//
//  * small maps (HW ≤ 2·KH·KW — PxByEmbed: 3×3 maps, 3×3 kernel, padding 1): the "unrolled weight"
//    T [C·HW, OC·P], T[(c,q),(k,p)] = w[k,c,r] when output p reads input pixel q through tap r (else
//    0). Then, on x, y, gy, dx in their own NCHW layouts (no im2col, no copies):
//        y  = x [B, C·HW] · T            dx = gy [B, OC·P] · Tᵀ            dT = xᵀ · gy
//    and dw[k,c,r] = Σ_p dT[(c, q(p,r)), (k,p)]. The products cost HW/(KH·KW) times the im2col
//    ones (1 at the PxByEmbed shape: the same multiply-adds, padded taps included) and are single
//    large GEMMs (M = B) that sgemm splits over the threads.
//  * otherwise im2col + sgemm, by blocks of images (or, for a very large image, tiles of its output
//    positions) so the column matrix stays ≲ 512 KB: y_blk [OC, nb·P] = w [OC, Kd] · col [Kd, nb·P];
//    dcol = wᵀ · gy_blk, then col2im (adds in a fixed tap order); dw += gy_blk · colᵀ. Blocks are
//    split over the threads (sgemm serial inside).
//  * any non-finite x, w or gy: direct loops that mirror the oracle (float64 sums, the oracle's
//    order, padding taps never multiplied), so Inf/NaN reach exactly the outputs they reach on 'cpu'
//    — a GEMM would multiply them by the zeros of padding or of T and spread NaN (0·Inf).
//
// Determinism: dw and db are sums over the batch. The batch is cut into a number of groups that
// depends on the geometry only (not on the thread count); each group sums into its own partial
// (one serial sgemm per block, in block order) and the partials are added in group order. db sums
// in float64. The forward and dx have one writer per element. Accuracy: float32 GEMM sums against
// the oracle's float64 (the parity tolerance gemm(K), K = the reduction length).
#include <atomic>

#include "common.h"

namespace pb {
namespace cpu {
namespace {

/** Floats in one im2col block (the column matrix of a block of images or of an output tile). */
constexpr int64_t kColLimit = int64_t{1} << 17;
/** Largest unrolled weight T (floats); larger problems take im2col. */
constexpr int64_t kMaxUnrolled = int64_t{1} << 22;
/** At most this many batch groups (partial weight gradients) and this many floats in all of them. */
constexpr int64_t kMaxGroups = 8;
constexpr int64_t kMaxPartials = int64_t{1} << 23;

struct Conv {
  int64_t B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw;
  bool bias;
  int64_t HW, P, KK, Kd, CHW, OCP;   // derived
  int64_t xn, yn, wn;                // element counts of x, y, w
};

int64_t mul(const KernelCall& c, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > (int64_t{1} << 40)) c.fail("conv sizes are too large (" + std::to_string(a) + " × " + std::to_string(b) + ")");
  return r;
}

Conv conv_geometry(const KernelCall& c) {
  c.need_ints(14);
  int64_t v[14];
  static const char* names[14] = {"B", "C", "H", "W", "OC", "KH", "KW", "OH", "OW", "strideH", "strideW", "padH", "padW", "hasBias"};
  for (size_t i = 0; i < 14; i++) {
    v[i] = c.i(i);
    if (v[i] < 0) c.fail(std::string(names[i]) + " is negative (" + std::to_string(v[i]) + ")");
  }
  Conv g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13] != 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (g.sh < 1 || g.sw < 1) c.fail("strides must be ≥ 1, got [" + std::to_string(g.sh) + ", " + std::to_string(g.sw) + "]");
  if (v[13] > 1) c.fail("hasBias must be 0 or 1, got " + std::to_string(v[13]));
  g.HW = mul(c, g.H, g.W);
  g.P = mul(c, g.OH, g.OW);
  g.KK = mul(c, g.KH, g.KW);
  g.Kd = mul(c, g.C, g.KK);
  g.CHW = mul(c, g.C, g.HW);
  g.OCP = mul(c, g.OC, g.P);
  g.xn = mul(c, g.B, g.CHW);
  g.yn = mul(c, g.B, g.OCP);
  g.wn = mul(c, g.OC, g.Kd);
  return g;
}

/** sgemm, with empty products handled here (K = 0 with beta = 0 writes zeros). */
void gemm(bool tA, bool tB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (beta == 0.f) for (int64_t i = 0; i < M; i++) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
    return;
  }
  sgemm(tA, tB, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc);
}

/** True when no element is Inf or NaN. */
bool all_finite(const float* p, int64_t n) {
  std::atomic<bool> bad{false};
  parallel_for(n, 4 * kElementwiseGrain, [&](int64_t a, int64_t b) {
    bool local = false;
    for (int64_t i = a; i < b; i++) local |= !(std::fabs(p[i]) <= 3.4028235e38f);   // branch-free: vectorises
    if (local) bad.store(true, std::memory_order_relaxed);
  });
  return !bad.load();
}

bool use_unrolled(const Conv& g) { return g.HW <= 2 * g.KK && g.CHW <= kMaxUnrolled / std::max<int64_t>(g.OCP, 1); }

// ---- the direct loops (non-finite inputs): the oracle's sums, float64, its order --------------

void direct_forward(const Conv& g, float* y, const float* x, const float* w, const float* b) {
  const int64_t cost = std::max<int64_t>(1, g.OCP * g.Kd);
  parallel_for(g.B, std::max<int64_t>(1, kElementwiseGrain / cost), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t k = 0; k < g.OC; k++)
        for (int64_t oh = 0; oh < g.OH; oh++)
          for (int64_t ow = 0; ow < g.OW; ow++) {
            double s = b ? b[k] : 0.0;
            for (int64_t c = 0; c < g.C; c++) {
              const float* xc = x + (n * g.C + c) * g.HW;
              const float* wc = w + (k * g.C + c) * g.KK;
              for (int64_t kh = 0; kh < g.KH; kh++) {
                const int64_t ih = oh * g.sh - g.ph + kh;
                if (ih < 0 || ih >= g.H) continue;
                for (int64_t kw = 0; kw < g.KW; kw++) {
                  const int64_t iw = ow * g.sw - g.pw + kw;
                  if (iw >= 0 && iw < g.W) s += static_cast<double>(wc[kh * g.KW + kw]) * xc[ih * g.W + iw];
                }
              }
            }
            y[((n * g.OC + k) * g.OH + oh) * g.OW + ow] = static_cast<float>(s);
          }
  });
}

void direct_backward_input(const Conv& g, float* dx, const float* gy, const float* w) {
  const int64_t cost = std::max<int64_t>(1, g.OCP * g.Kd);
  parallel_for(g.B, std::max<int64_t>(1, kElementwiseGrain / cost), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t c = 0; c < g.C; c++)
        for (int64_t ih = 0; ih < g.H; ih++)
          for (int64_t iw = 0; iw < g.W; iw++) {
            double s = 0.0;
            for (int64_t k = 0; k < g.OC; k++) {
              const float* gk = gy + (n * g.OC + k) * g.P;
              const float* wk = w + (k * g.C + c) * g.KK;
              for (int64_t oh = 0; oh < g.OH; oh++) {
                const int64_t kh = ih - oh * g.sh + g.ph;
                if (kh < 0 || kh >= g.KH) continue;
                for (int64_t ow = 0; ow < g.OW; ow++) {
                  const int64_t kw = iw - ow * g.sw + g.pw;
                  if (kw >= 0 && kw < g.KW) s += static_cast<double>(wk[kh * g.KW + kw]) * gk[oh * g.OW + ow];
                }
              }
            }
            dx[((n * g.C + c) * g.H + ih) * g.W + iw] = static_cast<float>(s);
          }
  });
}

void direct_backward_weight(const Conv& g, float* dw, float* db, const float* gy, const float* x) {
  parallel_for(g.OC, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++) {
      for (int64_t c = 0; c < g.C; c++)
        for (int64_t kh = 0; kh < g.KH; kh++)
          for (int64_t kw = 0; kw < g.KW; kw++) {
            double s = 0.0;
            for (int64_t n = 0; n < g.B; n++) {
              const float* gk = gy + (n * g.OC + k) * g.P;
              const float* xc = x + (n * g.C + c) * g.HW;
              for (int64_t oh = 0; oh < g.OH; oh++) {
                const int64_t ih = oh * g.sh - g.ph + kh;
                if (ih < 0 || ih >= g.H) continue;
                for (int64_t ow = 0; ow < g.OW; ow++) {
                  const int64_t iw = ow * g.sw - g.pw + kw;
                  if (iw >= 0 && iw < g.W) s += static_cast<double>(gk[oh * g.OW + ow]) * xc[ih * g.W + iw];
                }
              }
            }
            dw[(k * g.C + c) * g.KK + kh * g.KW + kw] = static_cast<float>(s);
          }
      if (db) {
        double s = 0.0;
        for (int64_t n = 0; n < g.B; n++)
          for (int64_t p = 0; p < g.P; p++) s += gy[(n * g.OC + k) * g.P + p];
        db[k] = static_cast<float>(s);
      }
    }
  });
}

// ---- the batch groups of the weight gradient --------------------------------------------------

/** Groups for `units` batch units whose partial has `partial` floats: a function of the geometry only. */
int64_t group_count(int64_t units, int64_t min_units, int64_t partial) {
  if (units == 0) return 0;
  int64_t G = std::min<int64_t>(kMaxGroups, (units + min_units - 1) / min_units);
  G = std::min<int64_t>(G, kMaxPartials / std::max<int64_t>(partial, 1));
  return std::max<int64_t>(G, 1);
}

/** dst[i] = Σ_g part[g·n + i] in group order (each element one owner: deterministic). */
void sum_partials(float* dst, const float* part, int64_t G, int64_t n) {
  parallel_for(n, kElementwiseGrain, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; i++) {
      float s = part[i];
      for (int64_t q = 1; q < G; q++) s += part[q * n + i];
      dst[i] = s;
    }
  });
}

/** db[k] partial of images [n0, n1) in float64, added to acc[k]. */
void bias_partial(const Conv& g, const float* gy, int64_t n0, int64_t n1, double* acc) {
  for (int64_t n = n0; n < n1; n++)
    for (int64_t k = 0; k < g.OC; k++) {
      const float* row = gy + (n * g.OC + k) * g.P;
      double s = 0.0;
      for (int64_t p = 0; p < g.P; p++) s += row[p];
      acc[k] += s;
    }
}

void finish_bias(const Conv& g, float* db, const std::vector<double>& part, int64_t G) {
  for (int64_t k = 0; k < g.OC; k++) {
    double s = 0.0;
    for (int64_t q = 0; q < G; q++) s += part[q * g.OC + k];
    db[k] = static_cast<float>(s);
  }
}

void add_bias(const Conv& g, float* y, const float* b) {
  parallel_for(g.B, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(g.OCP, 1)), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t k = 0; k < g.OC; k++) {
        float* row = y + (n * g.OC + k) * g.P;
        for (int64_t p = 0; p < g.P; p++) row[p] += b[k];
      }
  });
}

// ---- small maps: the unrolled weight T [C·HW, OC·P] -------------------------------------------

/** Calls fn(p, r, q) for every output position p and tap r that reads input pixel q, p ascending, r ascending. */
template <class F>
void for_each_tap(const Conv& g, F&& fn) {
  for (int64_t oh = 0; oh < g.OH; oh++)
    for (int64_t ow = 0; ow < g.OW; ow++)
      for (int64_t kh = 0; kh < g.KH; kh++) {
        const int64_t ih = oh * g.sh - g.ph + kh;
        if (ih < 0 || ih >= g.H) continue;
        for (int64_t kw = 0; kw < g.KW; kw++) {
          const int64_t iw = ow * g.sw - g.pw + kw;
          if (iw >= 0 && iw < g.W) fn(oh * g.OW + ow, kh * g.KW + kw, ih * g.W + iw);
        }
      }
}

std::vector<float> unrolled_weight(const Conv& g, const float* w) {
  std::vector<float> T(static_cast<size_t>(g.CHW * g.OCP), 0.f);
  for_each_tap(g, [&](int64_t p, int64_t r, int64_t q) {
    for (int64_t c = 0; c < g.C; c++) {
      float* t = T.data() + (c * g.HW + q) * g.OCP + p;
      for (int64_t k = 0; k < g.OC; k++) t[k * g.P] = w[(k * g.C + c) * g.KK + r];
    }
  });
  return T;
}

void unrolled_forward(const Conv& g, float* y, const float* x, const float* w, const float* b) {
  const std::vector<float> T = unrolled_weight(g, w);
  gemm(false, false, g.B, g.OCP, g.CHW, x, g.CHW, T.data(), g.OCP, 0.f, y, g.OCP);
  if (b) add_bias(g, y, b);
}

void unrolled_backward_input(const Conv& g, float* dx, const float* gy, const float* w) {
  const std::vector<float> T = unrolled_weight(g, w);
  gemm(false, true, g.B, g.CHW, g.OCP, gy, g.OCP, T.data(), g.OCP, 0.f, dx, g.CHW);
}

void unrolled_backward_weight(const Conv& g, float* dw, float* db, const float* gy, const float* x) {
  const int64_t TS = g.CHW * g.OCP;
  const int64_t G = group_count(g.B, 256, TS);
  std::vector<float> part(static_cast<size_t>(std::max<int64_t>(G, 1) * TS), 0.f);
  std::vector<double> bpart(static_cast<size_t>(G * g.OC), 0.0);
  parallel_tasks(G, [&](int64_t q) {
    const int64_t n0 = g.B * q / G, n1 = g.B * (q + 1) / G;
    gemm(true, false, g.CHW, g.OCP, n1 - n0, x + n0 * g.CHW, g.CHW, gy + n0 * g.OCP, g.OCP, 0.f, part.data() + q * TS, g.OCP);
    if (db) bias_partial(g, gy, n0, n1, bpart.data() + q * g.OC);
  });
  if (G > 1) sum_partials(part.data(), part.data(), G, TS);   // in place: element i reads only column i
  // fold dT [C·HW, OC·P] into dw [OC, C, KK]: dw[k,c,r] = Σ_{(p,q) of tap r, p ascending} dT[(c,q),(k,p)]
  std::vector<std::vector<std::pair<int64_t, int64_t>>> pairs(static_cast<size_t>(g.KK));
  for_each_tap(g, [&](int64_t p, int64_t r, int64_t q) { pairs[r].emplace_back(p, q); });
  const float* dT = part.data();
  parallel_for(g.OC, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, g.CHW)), [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++)
      for (int64_t c = 0; c < g.C; c++)
        for (int64_t r = 0; r < g.KK; r++) {
          float s = 0.f;
          for (const auto& pq : pairs[r]) s += dT[(c * g.HW + pq.second) * g.OCP + k * g.P + pq.first];
          dw[(k * g.C + c) * g.KK + r] = s;
        }
  });
  if (db) finish_bias(g, db, bpart, G);
}

// ---- im2col --------------------------------------------------------------------------------------

/** Blocks of nb images × tiles of np output positions (nb > 1 only when np = P). */
struct Tiling {
  int64_t nb, np, nblk, ntile;
};

Tiling tiling(const Conv& g) {
  Tiling t;
  if (g.P == 0 || g.Kd <= kColLimit / g.P) {
    t.nb = std::max<int64_t>(1, std::min(g.B, kColLimit / std::max<int64_t>(1, g.Kd * g.P)));
    t.np = std::max<int64_t>(g.P, 1);
  } else {
    t.nb = 1;
    t.np = std::max<int64_t>(1, kColLimit / std::max<int64_t>(g.Kd, 1));
  }
  t.nblk = (g.B + t.nb - 1) / t.nb;
  t.ntile = (g.P + t.np - 1) / t.np;
  return t;
}

/**
 * Walks the column matrix [Kd, cnt·pc] of images [n0, n0+cnt) × positions [p0, p0+pc): for every
 * row r = (c, kh, kw), image and output-row segment calls run(colp, len, at, lo, hi): colp[j]
 * (j < len) pairs with input element x[at + (j − lo)·sw] when j ∈ [lo, hi), with padding otherwise
 * (lo = hi when the whole segment is padding).
 */
template <class F>
void walk_columns(const Conv& g, int64_t n0, int64_t cnt, int64_t p0, int64_t pc, float* col, F&& run) {
  const int64_t ld = cnt * pc;
  for (int64_t c = 0; c < g.C; c++)
    for (int64_t kh = 0; kh < g.KH; kh++)
      for (int64_t kw = 0; kw < g.KW; kw++) {
        float* row = col + ((c * g.KH + kh) * g.KW + kw) * ld;
        for (int64_t nl = 0; nl < cnt; nl++) {
          const int64_t img = ((n0 + nl) * g.C + c) * g.HW;
          float* dst = row + nl * pc;
          int64_t oh = p0 / g.OW, ow = p0 % g.OW, left = pc;
          while (left > 0) {
            const int64_t len = std::min(g.OW - ow, left);
            const int64_t ih = oh * g.sh - g.ph + kh;
            int64_t lo = 0, hi = 0, at = 0;
            if (ih >= 0 && ih < g.H) {
              const int64_t iw0 = ow * g.sw - g.pw + kw;   // input column of j = 0; j valid when 0 ≤ iw0 + j·sw < W
              lo = std::min(len, iw0 >= 0 ? int64_t{0} : (-iw0 + g.sw - 1) / g.sw);
              hi = std::max(lo, std::min(len, iw0 >= g.W ? int64_t{0} : (g.W - 1 - iw0) / g.sw + 1));
              at = img + ih * g.W + iw0 + lo * g.sw;
            }
            run(dst, len, at, lo, hi);
            dst += len;
            left -= len;
            ow = 0;
            oh++;
          }
        }
      }
}

void im2col(const Conv& g, const float* x, int64_t n0, int64_t cnt, int64_t p0, int64_t pc, float* col) {
  walk_columns(g, n0, cnt, p0, pc, col, [&](float* dst, int64_t len, int64_t at, int64_t lo, int64_t hi) {
    std::fill(dst, dst + lo, 0.f);
    const float* src = x + at;
    float* d = dst + lo;
    const int64_t m = hi - lo;
    if (g.sw == 1) for (int64_t j = 0; j < m; j++) d[j] = src[j];
    else for (int64_t j = 0; j < m; j++) d[j] = src[j * g.sw];
    std::fill(dst + hi, dst + len, 0.f);
  });
}

/** dx += col2im(dcol): the taps added in row order r = (c, kh, kw), images and positions ascending. */
void col2im(const Conv& g, float* dx, int64_t n0, int64_t cnt, int64_t p0, int64_t pc, float* dcol) {
  walk_columns(g, n0, cnt, p0, pc, dcol, [&](float* src, int64_t, int64_t at, int64_t lo, int64_t hi) {
    float* d = dx + at;
    const float* s = src + lo;
    const int64_t m = hi - lo;
    if (g.sw == 1) for (int64_t j = 0; j < m; j++) d[j] += s[j];
    else for (int64_t j = 0; j < m; j++) d[j * g.sw] += s[j];
  });
}

/** The gy block as a GEMM operand [OC, cnt·pc]: gy itself (ld = P) for one image, else packed into buf. */
const float* gy_block(const Conv& g, const float* gy, int64_t n0, int64_t cnt, int64_t p0, int64_t pc, float* buf, int64_t* ld) {
  if (cnt == 1) { *ld = g.P; return gy + n0 * g.OCP + p0; }
  *ld = cnt * pc;
  for (int64_t k = 0; k < g.OC; k++)
    for (int64_t nl = 0; nl < cnt; nl++) {
      const float* src = gy + (n0 + nl) * g.OCP + k * g.P + p0;
      float* dst = buf + k * cnt * pc + nl * pc;
      for (int64_t j = 0; j < pc; j++) dst[j] = src[j];
    }
  return buf;
}

void im2col_forward(const Conv& g, float* y, const float* x, const float* w, const float* b) {
  const Tiling t = tiling(g);
  parallel_for(t.nblk * t.ntile, 1, [&](int64_t u0, int64_t u1) {
    std::vector<float> col(static_cast<size_t>(g.Kd * t.nb * t.np)), tmp(static_cast<size_t>(t.nb > 1 ? g.OC * t.nb * t.np : 0));
    for (int64_t u = u0; u < u1; u++) {
      const int64_t n0 = (u / t.ntile) * t.nb, cnt = std::min(t.nb, g.B - n0);
      const int64_t p0 = (u % t.ntile) * t.np, pc = std::min(t.np, g.P - p0);
      im2col(g, x, n0, cnt, p0, pc, col.data());
      if (cnt == 1) {   // straight into y[n0][:, p0 : p0+pc]
        float* yb = y + n0 * g.OCP + p0;
        gemm(false, false, g.OC, pc, g.Kd, w, g.Kd, col.data(), pc, 0.f, yb, g.P);
        if (b) for (int64_t k = 0; k < g.OC; k++) for (int64_t j = 0; j < pc; j++) yb[k * g.P + j] += b[k];
        continue;
      }
      const int64_t ld = cnt * pc;
      gemm(false, false, g.OC, ld, g.Kd, w, g.Kd, col.data(), ld, 0.f, tmp.data(), ld);
      for (int64_t nl = 0; nl < cnt; nl++)
        for (int64_t k = 0; k < g.OC; k++) {
          const float* src = tmp.data() + k * ld + nl * pc;
          float* dst = y + (n0 + nl) * g.OCP + k * g.P + p0;
          const float bk = b ? b[k] : 0.f;
          for (int64_t j = 0; j < pc; j++) dst[j] = b ? src[j] + bk : src[j];
        }
    }
  });
}

void im2col_backward_input(const Conv& g, float* dx, const float* gy, const float* w) {
  const Tiling t = tiling(g);
  // a block's output tiles all add into its images' dx: one task per block, tiles in order
  parallel_for(t.nblk, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> dcol(static_cast<size_t>(g.Kd * t.nb * t.np)), buf(static_cast<size_t>(t.nb > 1 ? g.OC * t.nb * t.np : 0));
    for (int64_t blk = b0; blk < b1; blk++) {
      const int64_t n0 = blk * t.nb, cnt = std::min(t.nb, g.B - n0);
      std::fill(dx + n0 * g.CHW, dx + (n0 + cnt) * g.CHW, 0.f);
      for (int64_t tile = 0; tile < t.ntile; tile++) {
        const int64_t p0 = tile * t.np, pc = std::min(t.np, g.P - p0);
        int64_t ld;
        const float* gb = gy_block(g, gy, n0, cnt, p0, pc, buf.data(), &ld);
        gemm(true, false, g.Kd, cnt * pc, g.OC, w, g.Kd, gb, ld, 0.f, dcol.data(), cnt * pc);
        col2im(g, dx, n0, cnt, p0, pc, dcol.data());
      }
    }
  });
}

void im2col_backward_weight(const Conv& g, float* dw, float* db, const float* gy, const float* x) {
  const Tiling t = tiling(g);
  const int64_t G = group_count(t.nblk, 1, g.wn);
  std::vector<float> part(static_cast<size_t>(G * g.wn), 0.f);
  std::vector<double> bpart(static_cast<size_t>(G * g.OC), 0.0);
  parallel_tasks(G, [&](int64_t q) {
    const int64_t blk0 = t.nblk * q / G, blk1 = t.nblk * (q + 1) / G;
    std::vector<float> col(static_cast<size_t>(g.Kd * t.nb * t.np)), buf(static_cast<size_t>(t.nb > 1 ? g.OC * t.nb * t.np : 0));
    float* acc = part.data() + q * g.wn;
    for (int64_t blk = blk0; blk < blk1; blk++) {
      const int64_t n0 = blk * t.nb, cnt = std::min(t.nb, g.B - n0);
      for (int64_t tile = 0; tile < t.ntile; tile++) {
        const int64_t p0 = tile * t.np, pc = std::min(t.np, g.P - p0);
        im2col(g, x, n0, cnt, p0, pc, col.data());
        int64_t ld;
        const float* gb = gy_block(g, gy, n0, cnt, p0, pc, buf.data(), &ld);
        // dw [OC, Kd] += gy_blk [OC, cnt·pc] · col [Kd, cnt·pc]ᵀ (partials start at 0)
        gemm(false, true, g.OC, g.Kd, cnt * pc, gb, ld, col.data(), cnt * pc, 1.f, acc, g.Kd);
      }
      if (db) bias_partial(g, gy, n0, n0 + cnt, bpart.data() + q * g.OC);
    }
  });
  if (G == 0) std::fill(dw, dw + g.wn, 0.f);
  else sum_partials(dw, part.data(), G, g.wn);
  if (db) finish_bias(g, db, bpart, G);
}

// ---- the kernels ------------------------------------------------------------------------------

void conv2d(KernelCall& c) {
  const Conv g = conv_geometry(c);
  c.need_ins(g.bias ? 3 : 2);
  float* y = c.outF(0, g.yn);
  const float* x = c.inF(0, g.xn);
  const float* w = c.inF(1, g.wn);
  const float* b = g.bias ? c.inF(2, g.OC) : nullptr;
  if (g.yn == 0) return;
  if (!all_finite(x, g.xn) || !all_finite(w, g.wn)) direct_forward(g, y, x, w, b);
  else if (use_unrolled(g)) unrolled_forward(g, y, x, w, b);
  else im2col_forward(g, y, x, w, b);
}

void conv2d_backward_input(KernelCall& c) {
  const Conv g = conv_geometry(c);
  float* dx = c.outF(0, g.xn);
  const float* gy = c.inF(0, g.yn);
  const float* w = c.inF(1, g.wn);
  if (g.xn == 0) return;
  if (!all_finite(gy, g.yn) || !all_finite(w, g.wn)) direct_backward_input(g, dx, gy, w);
  else if (use_unrolled(g)) unrolled_backward_input(g, dx, gy, w);
  else im2col_backward_input(g, dx, gy, w);
}

void conv2d_backward_weight(KernelCall& c) {
  const Conv g = conv_geometry(c);
  if (c.outs.empty() || c.outs.size() > 2) c.fail("expects 1 or 2 outputs (dw, db), got " + std::to_string(c.outs.size()));
  float* dw = c.outF(0, g.wn);
  // db is written when the conv has a bias and the caller passed it (as the oracle)
  float* db = c.outs.size() > 1 ? c.outF(1, g.OC) : nullptr;
  if (!g.bias) db = nullptr;
  const float* gy = c.inF(0, g.yn);
  const float* x = c.inF(1, g.xn);
  if (!all_finite(gy, g.yn) || !all_finite(x, g.xn)) direct_backward_weight(g, dw, db, gy, x);
  else if (use_unrolled(g)) unrolled_backward_weight(g, dw, db, gy, x);
  else im2col_backward_weight(g, dw, db, gy, x);
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("conv2d", 1, -1, pb::cpu::conv2d);
REGISTER_KERNEL("conv2d_backward_input", 1, 2, pb::cpu::conv2d_backward_input);
REGISTER_KERNEL("conv2d_backward_weight", -1, 2, pb::cpu::conv2d_backward_weight);
