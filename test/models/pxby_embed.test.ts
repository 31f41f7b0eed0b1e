import { describe, expect, it } from 'vitest';
import { fromArray, manualSeed, noGrad } from '../../src/index.js';
import { CenterEmbed, PxByEmbed } from '../../models/common/pxby_embed.js';
import { embedChannels } from '../../models/common/config.js';

const names = (m: { namedParameters(): Iterable<[string, { shape: readonly number[] }]> }) =>
  Object.fromEntries([...m.namedParameters()].map(([n, p]) => [n, p.shape.join('x')]));

/** Algorithm 1 on the host, in float64, straight from the spec's formula. */
function reference(e: PxByEmbed, win: number[]): number[] {
  const E = e.E, D = e.dim;
  const table = e.linearEmbedding.weight.toArray();
  const X = (c: number, i: number, j: number) => table[win[i * 3 + j] * E + c];
  const alpha = e.alpha.toArray().map((a) => 1 / (1 + Math.exp(-a)));
  const W = e.patchEmbedding?.weight.toArray(), bconv = e.patchEmbedding?.bias?.toArray();
  const mixed: number[] = []; // channel-major flatten: index c·9 + i·3 + j
  for (let c = 0; c < E; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let v = alpha[i * 3 + j] * X(c, i, j);
    if (W && bconv) {
      let conv = bconv[c];
      for (let ci = 0; ci < E; ci++) for (let di = -1; di <= 1; di++) for (let dj = -1; dj <= 1; dj++) {
        const ii = i + di, jj = j + dj;
        if (ii < 0 || ii > 2 || jj < 0 || jj > 2) continue;
        conv += W[((c * E + ci) * 3 + (di + 1)) * 3 + (dj + 1)] * X(ci, ii, jj);
      }
      v += (1 - alpha[i * 3 + j]) * conv;
    }
    mixed.push(v);
  }
  const Wp = e.projection.weight.toArray(), bp = e.projection.bias!.toArray();
  const y = Array.from({ length: D }, (_, o) => bp[o] + mixed.reduce((s, v, k) => s + Wp[o * 9 * E + k] * v, 0));
  const mean = y.reduce((s, v) => s + v, 0) / D;
  const vr = y.reduce((s, v) => s + (v - mean) ** 2, 0) / D;
  const g = e.norm.weight!.toArray(), b = e.norm.bias!.toArray();
  return y.map((v, o) => ((v - mean) / Math.sqrt(vr + 1e-5)) * g[o] + b[o]);
}

describe('PxByEmbed (spec §3.1, Algorithm 1)', () => {
  it('E = max(9, ⌊D/9⌋)', () => {
    expect([36, 80, 81, 162].map(embedChannels)).toEqual([9, 9, 9, 18]);
  });

  it('has the original parameter names, shapes and counts (D = 81: 8,568; noconv 7,830)', () => {
    manualSeed(0);
    const e = new PxByEmbed(113, 81);
    expect(names(e)).toEqual({
      alpha: '1x1x3x3', 'projection.weight': '81x81', 'projection.bias': '81', 'norm.weight': '81', 'norm.bias': '81',
      'linear_embedding.weight': '113x9', 'patch_embedding.weight': '9x9x3x3', 'patch_embedding.bias': '9',
    });
    expect(e.numParameters()).toBe(8568);
    expect(new PxByEmbed(113, 81, false).numParameters()).toBe(8568 - 738);
    expect(names(new CenterEmbed(113, 81))).toEqual({ weight: '113x81' });
  });

  for (const conv of [true, false]) {
    it(`forward equals the formula computed by hand (${conv ? 'conv' : 'noconv'}, D = 20 → E = 9)`, () => {
      manualSeed(3);
      const e = new PxByEmbed(113, 20, conv);
      const wins = [
        [0, 0, 0, 0, 6, 0, 0, 0, 0],
        [60, 61, 1, 59, 85, 0, 0, 0, 0],
        [97, 97, 97, 58, 112, 0, 0, 0, 0],
        [0, 0, 0, 34, 3, 0, 0, 0, 0],
      ];
      const x = fromArray(wins.flat(), [2, 2, 3, 3], { dtype: 'int32' });
      const y = noGrad(() => e.embedWindows(x));
      expect(y.shape).toEqual([2, 2, 20]);
      const got = y.toArray();
      wins.forEach((w, k) => {
        const want = reference(e, w);
        want.forEach((v, o) => expect(got[k * 20 + o]).toBeCloseTo(v, 4));
      });
    });
  }

  it('center: the centre id only', () => {
    manualSeed(1);
    const e = new CenterEmbed(113, 8);
    const x = fromArray([0, 0, 0, 0, 7, 0, 0, 0, 0, 9, 9, 9, 9, 42, 0, 0, 0, 0], [1, 2, 3, 3], { dtype: 'int32' });
    const y = noGrad(() => e.embedWindows(x)).toArray();
    const t = e.weight.toArray();
    expect(y.slice(0, 8)).toEqual(t.slice(7 * 8, 8 * 8));
    expect(y.slice(8)).toEqual(t.slice(42 * 8, 43 * 8));
  });
});
