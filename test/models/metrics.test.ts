import { describe, expect, it } from 'vitest';
import { accuracyPercent, captionBleu, cosineSimilarity, hamming, idBleu, meanStd, perplexity, perplexityOf, sentenceBleu, ssimGray, ssimRgb, weightedF1 } from '../../models/common/metrics.js';

describe('paper generation metrics (spec §5.3)', () => {
  it('hamming = fraction of differing ids (SciPy)', () => {
    expect(hamming([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.25);
    expect(hamming([5, 5], [5, 5])).toBe(0);
    // 4 of 9 window cells are structurally 0 in both: max over 16 windows = 80/144
    const a = new Array(144).fill(0), b = new Array(144).fill(0);
    for (let w = 0; w < 16; w++) for (const k of [0, 1, 2, 3, 4]) { a[w * 9 + k] = 1; b[w * 9 + k] = 2; }
    expect(hamming(a, b)).toBeCloseTo(80 / 144, 12);
  });

  it('cosine = 1 − SciPy cosine distance on raw ids', () => {
    expect(cosineSimilarity([1, 0], [1, 1])).toBeCloseTo(1 / Math.SQRT2, 12);
    // 1·4 + 2·5 + 3·6 = 32; ‖u‖ = √14, ‖v‖ = √77
    expect(cosineSimilarity([1, 2, 3], [4, 5, 6])).toBeCloseTo(32 / Math.sqrt(14 * 77), 12);
    expect(cosineSimilarity([0, 0], [1, 2])).toBeNaN();
  });

  it('BLEU = NLTK sentence_bleu (uniform 4-gram, no smoothing)', () => {
    const t = (s: string) => s.split(' ');
    // p1..p4 = 4/5, 3/4, 2/3, 1/2; equal lengths → BP 1; (0.2)^(1/4)
    expect(sentenceBleu([t('a b c d e')], t('a b c d f'))).toBeCloseTo(0.2 ** 0.25, 12);
    expect(sentenceBleu([t('a b c d e')], t('a b c d e'))).toBe(1);
    // all precisions 1, c = 4 < r = 5 → BP = e^(1 − 5/4)
    expect(sentenceBleu([t('a b c d e')], t('a b c d'))).toBeCloseTo(Math.exp(-0.25), 12);
    // no unigram match → exactly 0
    expect(sentenceBleu([t('a b c d')], t('x y z w'))).toBe(0);
    // no trigram/4-gram: NLTK method0 puts float_info.min there → (2.2e-308)^(1/2) ≈ 1.5e-154
    const tiny = sentenceBleu([t('a b')], t('a b'));
    expect(tiny).toBeGreaterThan(0);
    expect(tiny).toBeLessThan(1e-150);
    // method1: ε = 0.1 on zero counts → (1·1·0.1·0.1)^(1/4)
    expect(sentenceBleu([t('a b')], t('a b'), { smoothing: 'add-epsilon' })).toBeCloseTo(Math.sqrt(0.1), 12);
    // clipping: "the the the the" vs "the cat": p1 = 1/4 (the clipped to 1), p2 = 0
    expect(sentenceBleu([t('the cat')], t('the the the the'))).toBeLessThan(1e-70);
  });

  it('idBleu treats ids as string tokens; captionBleu uses words', () => {
    const ids = Array.from({ length: 144 }, (_, i) => i % 7);
    expect(idBleu(ids, ids)).toBe(1);
    expect(captionBleu('a red ball with a yellow eye', 'a red ball with a yellow eye')).toBe(1);
    expect(captionBleu('a red ball', 'a blue bug', 'add-epsilon')).toBeGreaterThan(0);
  });
});

describe('training metrics (spec §4.2)', () => {
  it('accuracy in percent and weighted F1 (scikit-learn)', () => {
    expect(accuracyPercent([1, 2, 3, 4], [1, 2, 0, 0])).toBe(50);
    // class 0: P ½, R 1, F1 ⅔ (support 1); class 1: P 1, R ⅔, F1 0.8 (support 3) → (⅔ + 2.4)/4
    expect(weightedF1([0, 0, 1, 1], [0, 1, 1, 1])).toBeCloseTo((2 / 3 + 2.4) / 4, 12);
    // a class only predicted weighs 0; a class never predicted has F1 0
    expect(weightedF1([5, 5], [1, 2])).toBe(0);
    expect(weightedF1([3, 3, 3], [3, 3, 3])).toBe(1);
  });

  it('perplexity = exp(mean NLL)', () => {
    expect(perplexity(Math.log(113))).toBeCloseTo(113, 9);
    expect(perplexityOf([Math.log(2), Math.log(8)])).toBeCloseTo(4, 12);
  });

  it('mean ± sample sd skipping NaN (pandas)', () => {
    const r = meanStd([1, 2, 3, NaN]);
    expect(r.mean).toBe(2);
    expect(r.std).toBe(1);
    expect(r.n).toBe(3);
  });
});

describe('SSIM (scikit-image defaults)', () => {
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
  it('identical images → 1', () => {
    const a = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    expect(ssimGray(a, a, 8, 8)).toBeCloseTo(1, 12);
  });
  it('constant images: (2ab + C1)/(a² + b² + C1)', () => {
    const a = new Array(49).fill(100), b = new Array(49).fill(50);
    expect(ssimGray(a, b, 7, 7)).toBeCloseTo((2 * 100 * 50 + C1) / (100 ** 2 + 50 ** 2 + C1), 12);
  });
  it('one 7×7 window, b = 2a with a = 0..48', () => {
    // mean 24 / 48; sample variance of 0..48 = 200·49/48; var(b) = 4·that; cov = 2·that
    const a = Array.from({ length: 49 }, (_, i) => i), b = a.map((v) => 2 * v);
    const va = (200 * 49) / 48;
    const want = ((2 * 24 * 48 + C1) * (2 * 2 * va + C2)) / ((24 ** 2 + 48 ** 2 + C1) * (va + 4 * va + C2));
    expect(want).toBeCloseTo(0.64905, 4);
    expect(ssimGray(a, b, 7, 7)).toBeCloseTo(want, 12);
  });
  it('RGB = mean of the channel SSIMs', () => {
    const a = new Array(49 * 3).fill(0).map((_, i) => (i % 3 === 0 ? 100 : 30));
    const b = a.map((v, i) => (i % 3 === 0 ? 50 : v));
    const red = (2 * 100 * 50 + C1) / (100 ** 2 + 50 ** 2 + C1);
    expect(ssimRgb(a, b, 7, 7)).toBeCloseTo((red + 2) / 3, 12);
  });
  it('rejects a window larger than the image', () => {
    expect(() => ssimGray([1, 2, 3, 4], [1, 2, 3, 4], 2, 2)).toThrow(/win_size/);
  });
});
