import { describe, expect, it } from 'vitest';
import { PALETTE, PALETTE_LAB, labToRgb, nearestColorId, nearestPaletteIndex, rgbToLab, tokenIdToRgb } from '../../data-tools/palette.js';

describe('palette (spec §1.3)', () => {
  it('has the 55 colours of the table, all distinct', () => {
    expect(PALETTE).toHaveLength(55);
    expect(new Set(PALETTE.map((c) => c.join())).size).toBe(55);
    // A few rows of the spec table: palette index → (R, G, B); token id = 58 + index.
    expect(PALETTE[0]).toEqual([0, 0, 0]);
    expect(PALETTE[1]).toEqual([252, 252, 252]);
    expect(PALETTE[27]).toEqual([248, 56, 0]);
    expect(PALETTE[40]).toEqual([0, 120, 0]);
    expect(PALETTE[53]).toEqual([248, 216, 248]);
    expect(PALETTE[54]).toEqual([120, 120, 120]);
    expect(tokenIdToRgb(59)).toEqual([252, 252, 252]);
    expect(tokenIdToRgb(112)).toEqual([120, 120, 120]);
    expect(() => tokenIdToRgb(57)).toThrow(/not a colour/);
  });

  it('maps each palette colour to itself', () => {
    PALETTE.forEach(([r, g, b], k) => {
      expect(nearestPaletteIndex(r, g, b), `palette ${k}`).toBe(k);
      expect(nearestColorId(r, g, b)).toBe(58 + k);
    });
  });
});

describe('sRGB → CIELAB with skimage conventions (D65, 2°, sRGB companding)', () => {
  it('matches values computed by hand from the formulas', () => {
    // Pure red: linear (1, 0, 0) → XYZ = first column of the matrix (0.412453, 0.212671, 0.019334);
    // /white → (0.433953, 0.212671, 0.017756); cube roots (0.756873, 0.596935, 0.260821);
    // L = 116·0.596935 − 16, a = 500·(0.756873 − 0.596935), b = 200·(0.596935 − 0.260821).
    const red = rgbToLab(255, 0, 0);
    expect(red[0]).toBeCloseTo(53.2406, 3);
    expect(red[1]).toBeCloseTo(80.0923, 3);
    expect(red[2]).toBeCloseTo(67.2028, 3);
    // White: the matrix rows sum to (0.950456, 1, 1.088754), not exactly the white point, so a and
    // b are not quite 0: a = 500·(∛(0.950456/0.95047) − 1) = −0.00245, b = 200·(1 − ∛(1.088754/1.08883)) = 0.00465.
    const white = rgbToLab(255, 255, 255);
    expect(white[0]).toBeCloseTo(100, 6);
    expect(white[1]).toBeCloseTo(-0.00245, 5);
    expect(white[2]).toBeCloseTo(0.00465, 5);
    // Dark grey takes both linear branches: c = 10/255 ≤ 0.04045 → c/12.92 = 0.0030353;
    // Y = 0.0030353 ≤ 0.008856 → f = 7.787·Y + 16/116 → L = 116·7.787·0.0030353 = 2.7417.
    expect(rgbToLab(10, 10, 10)[0]).toBeCloseTo(2.7417, 3);
    expect(rgbToLab(0, 0, 0)).toEqual([0, 0, 0]);
  });

  it('inverts back to the same 8-bit colours (lab2rgb)', () => {
    PALETTE.forEach(([r, g, b], k) => expect(labToRgb(...PALETTE_LAB[k])).toEqual([r, g, b]));
    expect(labToRgb(...rgbToLab(17, 200, 93))).toEqual([17, 200, 93]);
  });

  it('picks the nearest colour in Lab, not in RGB (hand-computed cases)', () => {
    // (200, 150, 150) → Lab (66.746, 18.752, 7.335). Candidates (Lab of the palette colour, ΔE76):
    //   #f8a4c0 (76.263, 34.780, −1.478): √(9.517² + 16.028² + 8.813²) = 20.62   ← nearest
    //   #bcbcbc (76.246, −0.002, 0.004):  √(9.500² + 18.754² + 7.331²) = 22.27
    // while in RGB the grey #bcbcbc is nearer (12² + 38² + 38² = 3032 < 48² + 14² + 42² = 4264).
    const lab = rgbToLab(200, 150, 150);
    expect(lab[0]).toBeCloseTo(66.7455, 3);
    expect(lab[1]).toBeCloseTo(18.7524, 3);
    expect(lab[2]).toBeCloseTo(7.3348, 3);
    expect(nearestColorId(200, 150, 150)).toBe(58 + 21);
    // (255, 255, 0) → Lab (97.140, −21.555, 94.478): #b8f818 (90.501, −46.223, 85.183) at ΔE 27.18
    // beats #f8b800 (78.603, 11.036, 81.022) at 39.84, which RGB prefers (7²+71²+0² < 71²+7²+24²).
    expect(nearestColorId(255, 255, 0)).toBe(58 + 38);
    // (40, 40, 120) → Lab (21.298, 26.861, −45.745): #4428bc (30.342, 52.579, −72.473) at 38.18
    // beats #0078f8 at 40.43; RGB would take #004058.
    expect(nearestColorId(40, 40, 120)).toBe(58 + 16);
    // Pure white lands on palette 1 (#fcfcfc, L 98.964) rather than 2 (#f8f8f8, L 97.579).
    expect(nearestColorId(255, 255, 255)).toBe(59);
    // Grey 122 sits between #787878 (L 50.431) and #7c7c7c (L 52.013) at L 51.223:
    // ΔE 0.792 vs 0.790, so #7c7c7c (palette 4) by a hair.
    expect(nearestColorId(122, 122, 122)).toBe(58 + 4);
    expect(nearestColorId(121, 121, 121)).toBe(58 + 54);
  });
});
