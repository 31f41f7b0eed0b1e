/**
 * Metrics of PixelBytes training and evaluation, written from their definitions:
 *
 * - the paper's generation metrics (spec §5.3): SciPy `hamming` (fraction of differing ids),
 *   1 − SciPy `cosine` distance on the raw integer ids, NLTK `sentence_bleu` (one reference,
 *   uniform 4-gram weights, no smoothing → NLTK's method0);
 * - the training CSV's accuracy (percent) and scikit-learn's weighted F1 (spec §4.2);
 * - what the paper promised and never measured: perplexity, caption BLEU, image SSIM
 *   (scikit-image `structural_similarity` defaults: 7×7 uniform window, K1 0.01, K2 0.03,
 *   sample covariance, mean over the window-valid interior).
 *
 * Pure functions on plain arrays: no tensors, so they are exact and easy to check by hand.
 */

/** SciPy `hamming(u, v)`: the fraction of positions where u and v differ. */
export function hamming(u: ArrayLike<number>, v: ArrayLike<number>): number {
  checkSameLength('hamming', u, v);
  if (u.length === 0) return NaN;
  let diff = 0;
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) diff++;
  return diff / u.length;
}

/**
 * 1 − SciPy `cosine(u, v)` = u·v / (‖u‖‖v‖), on the raw numbers (the paper applies it to integer
 * token ids). A zero vector gives NaN, as SciPy does (0/0); means skip NaN as pandas does.
 */
export function cosineSimilarity(u: ArrayLike<number>, v: ArrayLike<number>): number {
  checkSameLength('cosineSimilarity', u, v);
  let uv = 0, uu = 0, vv = 0;
  for (let i = 0; i < u.length; i++) { uv += u[i] * v[i]; uu += u[i] * u[i]; vv += v[i] * v[i]; }
  if (uu === 0 || vv === 0) return NaN;
  return uv / Math.sqrt(uu * vv);
}

/** The smallest positive normal double: what NLTK's method0 puts in place of a zero precision. */
const FLOAT_INFO_MIN = 2.2250738585072014e-308;

export interface BleuOptions {
  /** n-gram weights; default uniform 4-gram (0.25 × 4) as NLTK. */
  weights?: readonly number[];
  /** 'none' = NLTK method0 (the paper); 'add-epsilon' = NLTK method1 (ε = 0.1 added to zero counts). */
  smoothing?: 'none' | 'add-epsilon';
}

function ngramCounts<T>(tokens: readonly T[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = JSON.stringify(tokens.slice(i, i + n));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * NLTK `sentence_bleu(references, hypothesis)`: modified (clipped) n-gram precisions, brevity
 * penalty with the closest reference length (ties → the shorter), geometric mean in log space.
 * As NLTK: no matching unigram → 0; a zero higher-order precision → sys.float_info.min
 * (method0), which makes the score ~1e-77 rather than exactly 0.
 */
export function sentenceBleu<T>(references: readonly (readonly T[])[], hypothesis: readonly T[], opts: BleuOptions = {}): number {
  const weights = opts.weights ?? [0.25, 0.25, 0.25, 0.25];
  if (references.length === 0) throw new RangeError('sentenceBleu: at least one reference is needed');
  const numerators: number[] = [], denominators: number[] = [];
  for (let n = 1; n <= weights.length; n++) {
    const hyp = ngramCounts(hypothesis, n);
    const maxRef = new Map<string, number>();
    for (const ref of references) {
      for (const [k, c] of ngramCounts(ref, n)) maxRef.set(k, Math.max(maxRef.get(k) ?? 0, c));
    }
    let clipped = 0, total = 0;
    for (const [k, c] of hyp) { clipped += Math.min(c, maxRef.get(k) ?? 0); total += c; }
    numerators.push(clipped);
    denominators.push(Math.max(1, total));
  }
  if (numerators[0] === 0) return 0;
  const c = hypothesis.length;
  let r = references[0].length;
  for (const ref of references) {
    const d = Math.abs(ref.length - c), best = Math.abs(r - c);
    if (d < best || (d === best && ref.length < r)) r = ref.length;
  }
  const bp = c > r ? 1 : c === 0 ? 0 : Math.exp(1 - r / c);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    let p: number;
    if (numerators[i] !== 0) p = numerators[i] / denominators[i];
    else p = opts.smoothing === 'add-epsilon' ? 0.1 / denominators[i] : FLOAT_INFO_MIN;
    s += weights[i] * Math.log(p);
  }
  return bp * Math.exp(s);
}

/** The paper's BLEU over window ids: each id as a string token, one reference (spec §5.3). */
export function idBleu(generated: ArrayLike<number>, target: ArrayLike<number>): number {
  return sentenceBleu([Array.from(target, String)], Array.from(generated, String));
}

/** Word-level BLEU of a caption against the true one (whitespace tokens). */
export function captionBleu(generated: string, reference: string, smoothing: BleuOptions['smoothing'] = 'none'): number {
  const words = (s: string) => s.split(/\s+/).filter(Boolean);
  return sentenceBleu([words(reference)], words(generated), { smoothing });
}

// ---- classification ----------------------------------------------------------------------------

/** Percentage (0–100) of predictions equal to the targets, as the original's CSV. */
export function accuracyPercent(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  checkSameLength('accuracyPercent', pred, target);
  if (pred.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === target[i]) ok++;
  return (100 * ok) / pred.length;
}

/**
 * scikit-learn `f1_score(y_true, y_pred, average='weighted')`: per-class F1 over the union of
 * labels, weighted by the true support (classes never true weigh 0; 0/0 precision or recall → 0).
 */
export function weightedF1(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  checkSameLength('weightedF1', pred, target);
  const tp = new Map<number, number>(), predCount = new Map<number, number>(), support = new Map<number, number>();
  for (let i = 0; i < pred.length; i++) {
    predCount.set(pred[i], (predCount.get(pred[i]) ?? 0) + 1);
    support.set(target[i], (support.get(target[i]) ?? 0) + 1);
    if (pred[i] === target[i]) tp.set(pred[i], (tp.get(pred[i]) ?? 0) + 1);
  }
  let total = 0, acc = 0;
  for (const [label, s] of support) {
    const t = tp.get(label) ?? 0, p = predCount.get(label) ?? 0;
    const precision = p ? t / p : 0, recall = s ? t / s : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    acc += f1 * s;
    total += s;
  }
  return total ? acc / total : 0;
}

/** exp(mean negative log-likelihood in nats). */
export function perplexity(meanNll: number): number {
  return Math.exp(meanNll);
}

/** Perplexity from per-token negative log-likelihoods. */
export function perplexityOf(nlls: ArrayLike<number>): number {
  if (nlls.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < nlls.length; i++) s += nlls[i];
  return Math.exp(s / nlls.length);
}

// ---- SSIM --------------------------------------------------------------------------------------

export interface SsimOptions {
  /** Odd window side (skimage default 7). */
  winSize?: number;
  /** Value range (default 255 for 8-bit images). */
  dataRange?: number;
  K1?: number;
  K2?: number;
}

/**
 * scikit-image `structural_similarity(a, b, data_range, win_size=7)` for one channel
 * (height × width, row-major): uniform window means, sample (N−1) covariances, SSIM map
 * averaged over the pixels whose window lies fully inside the image.
 */
export function ssimGray(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, opts: SsimOptions = {}): number {
  checkSameLength('ssimGray', a, b);
  if (a.length !== height * width) throw new RangeError(`ssimGray: ${a.length} values for ${height}×${width}`);
  const win = opts.winSize ?? 7;
  if (win % 2 !== 1 || win > height || win > width) {
    throw new RangeError(`ssimGray: win_size ${win} must be odd and ≤ the image sides (${height}×${width})`);
  }
  const L = opts.dataRange ?? 255, C1 = ((opts.K1 ?? 0.01) * L) ** 2, C2 = ((opts.K2 ?? 0.03) * L) ** 2;
  const np = win * win, covNorm = np / (np - 1);
  const pad = (win - 1) / 2;
  let sum = 0, count = 0;
  for (let y = pad; y < height - pad; y++) {
    for (let x = pad; x < width - pad; x++) {
      let ma = 0, mb = 0, maa = 0, mbb = 0, mab = 0;
      for (let dy = -pad; dy <= pad; dy++) {
        for (let dx = -pad; dx <= pad; dx++) {
          const k = (y + dy) * width + (x + dx);
          const va = a[k], vb = b[k];
          ma += va; mb += vb; maa += va * va; mbb += vb * vb; mab += va * vb;
        }
      }
      ma /= np; mb /= np; maa /= np; mbb /= np; mab /= np;
      const vx = covNorm * (maa - ma * ma), vy = covNorm * (mbb - mb * mb), vxy = covNorm * (mab - ma * mb);
      const s = ((2 * ma * mb + C1) * (2 * vxy + C2)) / ((ma * ma + mb * mb + C1) * (vx + vy + C2));
      sum += s;
      count++;
    }
  }
  return sum / count;
}

/** SSIM of two RGB images (height × width × 3, row-major): the mean over the 3 channels (skimage channel_axis). */
export function ssimRgb(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, opts: SsimOptions = {}): number {
  checkSameLength('ssimRgb', a, b);
  let total = 0;
  for (let c = 0; c < 3; c++) {
    const ca = new Float64Array(height * width), cb = new Float64Array(height * width);
    for (let i = 0; i < height * width; i++) { ca[i] = a[i * 3 + c]; cb[i] = b[i * 3 + c]; }
    total += ssimGray(ca, cb, height, width, opts);
  }
  return total / 3;
}

// ---- summaries ---------------------------------------------------------------------------------

/** Mean and sample standard deviation (ddof 1), skipping NaN (pandas' defaults). */
export function meanStd(xs: ArrayLike<number>): { mean: number; std: number; n: number } {
  let n = 0, s = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i])) { s += xs[i]; n++; }
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i])) ss += (xs[i] - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN, n };
}

function checkSameLength(op: string, u: ArrayLike<number>, v: ArrayLike<number>): void {
  if (u.length !== v.length) throw new RangeError(`${op}: lengths differ (${u.length} vs ${v.length})`);
}
