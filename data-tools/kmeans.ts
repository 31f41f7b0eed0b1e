/**
 * Weighted k-means in 3-D (the original's k-means(55) colour pre-stage, spec §1.2 step 5), made
 * deterministic: seeded k-means++ initialisation instead of OpenCV's random centres. Same stop
 * rule as OpenCV's EPS+MAX_ITER criteria (100 iterations, or every centre moved ≤ ε = 0.2) and
 * the same "best of several attempts by compactness" rule.
 */
import { mulberry32, type Rng } from './rng.js';

export interface KMeansOptions {
  k: number;
  seed: number;
  maxIter?: number; // 100 in the original
  epsilon?: number; // 0.2 in the original (a centre shift, not squared)
  attempts?: number; // 10 in the original
}

export interface KMeansResult {
  /** k × 3 centres (fewer when there are fewer distinct points than k). */
  centres: Float64Array;
  /** Cluster of every input point. */
  labels: Int32Array;
  /** Σ weight·squared distance to the assigned centre (OpenCV's "compactness"). */
  compactness: number;
}

/**
 * Cluster `n` points (`points` holds n×3 values) with integer `weights` (how many pixels share
 * that colour). Points should already be distinct; with ≤ k of them each is its own centre.
 */
export function kmeans(points: Float64Array, weights: Float64Array, opts: KMeansOptions): KMeansResult {
  const n = weights.length;
  if (points.length !== n * 3) throw new RangeError(`kmeans: ${points.length} values for ${n} points (need 3 per point)`);
  const k = Math.min(opts.k, n);
  if (n === 0 || k <= 0) return { centres: new Float64Array(0), labels: new Int32Array(0), compactness: 0 };
  if (n <= opts.k) {
    // Every distinct point is its own cluster: the optimum, and what any k-means converges to.
    return { centres: points.slice(), labels: Int32Array.from({ length: n }, (_, i) => i), compactness: 0 };
  }
  const rng = mulberry32(opts.seed);
  let best: KMeansResult | undefined;
  for (let attempt = 0; attempt < (opts.attempts ?? 10); attempt++) {
    const result = lloyd(points, weights, initPlusPlus(points, weights, k, rng), opts.maxIter ?? 100, opts.epsilon ?? 0.2);
    if (!best || result.compactness < best.compactness) best = result;
  }
  return best!;
}

function dist2(p: Float64Array, i: number, c: Float64Array, j: number): number {
  const a = p[i * 3] - c[j * 3], b = p[i * 3 + 1] - c[j * 3 + 1], d = p[i * 3 + 2] - c[j * 3 + 2];
  return a * a + b * b + d * d;
}

/** k-means++: first centre weighted-uniform, then proportional to weight·D². */
function initPlusPlus(points: Float64Array, weights: Float64Array, k: number, rng: Rng): Float64Array {
  const n = weights.length;
  const centres = new Float64Array(k * 3);
  const d2 = new Float64Array(n).fill(Infinity);
  let chosen = pickWeighted(weights, rng);
  for (let c = 0; c < k; c++) {
    centres.set(points.subarray(chosen * 3, chosen * 3 + 3), c * 3);
    if (c === k - 1) break;
    const score = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      d2[i] = Math.min(d2[i], dist2(points, i, centres, c));
      score[i] = weights[i] * d2[i];
    }
    chosen = pickWeighted(score, rng);
  }
  return centres;
}

function pickWeighted(w: Float64Array, rng: Rng): number {
  let total = 0;
  for (const v of w) total += v;
  if (!(total > 0)) return 0;
  let r = rng() * total;
  for (let i = 0; i < w.length; i++) {
    r -= w[i];
    if (r < 0) return i;
  }
  return w.length - 1;
}

function lloyd(points: Float64Array, weights: Float64Array, centres: Float64Array, maxIter: number, epsilon: number): KMeansResult {
  const n = weights.length, k = centres.length / 3;
  const labels = new Int32Array(n);
  const sums = new Float64Array(k * 3), mass = new Float64Array(k);
  const assign = (): number => {
    let compactness = 0;
    for (let i = 0; i < n; i++) {
      let bj = 0, bd = Infinity;
      for (let j = 0; j < k; j++) {
        const d = dist2(points, i, centres, j);
        if (d < bd) { bd = d; bj = j; }
      }
      labels[i] = bj;
      compactness += weights[i] * bd;
    }
    return compactness;
  };
  let compactness = assign();
  for (let iter = 0; iter < maxIter; iter++) {
    sums.fill(0);
    mass.fill(0);
    for (let i = 0; i < n; i++) {
      const j = labels[i], w = weights[i];
      mass[j] += w;
      for (let c = 0; c < 3; c++) sums[j * 3 + c] += w * points[i * 3 + c];
    }
    let maxShift2 = 0;
    for (let j = 0; j < k; j++) {
      let nx: number, ny: number, nz: number;
      if (mass[j] > 0) {
        nx = sums[j * 3] / mass[j]; ny = sums[j * 3 + 1] / mass[j]; nz = sums[j * 3 + 2] / mass[j];
      } else {
        // An empty cluster takes the point farthest from its centre (as OpenCV does).
        let far = 0, farD = -1;
        for (let i = 0; i < n; i++) {
          const d = dist2(points, i, centres, labels[i]);
          if (d > farD) { farD = d; far = i; }
        }
        nx = points[far * 3]; ny = points[far * 3 + 1]; nz = points[far * 3 + 2];
      }
      const dx = nx - centres[j * 3], dy = ny - centres[j * 3 + 1], dz = nz - centres[j * 3 + 2];
      maxShift2 = Math.max(maxShift2, dx * dx + dy * dy + dz * dz);
      centres[j * 3] = nx; centres[j * 3 + 1] = ny; centres[j * 3 + 2] = nz;
    }
    compactness = assign();
    if (maxShift2 <= epsilon * epsilon) break;
  }
  return { centres, labels, compactness };
}
