/**
 * The 55-colour NES-like palette of PixelBytes (spec §1.3) and the colour science used to map
 * pixels onto it: sRGB → CIELAB with scikit-image's `rgb2lab` conventions (spec §1.2 step 7),
 * then the nearest palette colour by plain Euclidean distance in Lab (CIE76 ΔE, spec §1.4).
 */
import { FIRST_PIXEL_ID } from './vocab.js';

export type Rgb = readonly [number, number, number];
export type Lab = readonly [number, number, number];

/** Spec §1.3, in palette-index order; token id = 58 + index. */
export const PALETTE: readonly Rgb[] = [
  [0, 0, 0], [252, 252, 252], [248, 248, 248], [188, 188, 188], [124, 124, 124],
  [164, 228, 252], [60, 188, 252], [0, 120, 248], [0, 0, 252], [184, 184, 248],
  [104, 136, 252], [0, 88, 248], [0, 0, 188], [216, 184, 248], [152, 120, 248],
  [104, 68, 252], [68, 40, 188], [248, 184, 248], [248, 120, 248], [216, 0, 204],
  [148, 0, 132], [248, 164, 192], [248, 88, 152], [228, 0, 88], [168, 0, 32],
  [240, 208, 176], [248, 120, 88], [248, 56, 0], [168, 16, 0], [252, 224, 168],
  [252, 160, 68], [228, 92, 16], [136, 20, 0], [248, 216, 120], [248, 184, 0],
  [172, 124, 0], [80, 48, 0], [216, 248, 120], [184, 248, 24], [0, 184, 0],
  [0, 120, 0], [184, 248, 184], [88, 216, 84], [0, 168, 0], [0, 104, 0],
  [184, 248, 216], [88, 248, 152], [0, 168, 68], [0, 88, 0], [0, 252, 252],
  [0, 232, 216], [0, 136, 136], [0, 64, 88], [248, 216, 248], [120, 120, 120],
];
export const PALETTE_SIZE = PALETTE.length; // 55

/** Palette index of the background: composited white (255) lands on #fcfcfc (spec §1.2 step 8). */
export const BACKGROUND_PALETTE_INDEX = 1;

export function paletteIndexToTokenId(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= PALETTE_SIZE) throw new RangeError(`palette index ${index} is outside 0..${PALETTE_SIZE - 1}`);
  return FIRST_PIXEL_ID + index;
}

export function tokenIdToRgb(id: number): Rgb {
  const rgb = PALETTE[id - FIRST_PIXEL_ID];
  if (!Number.isInteger(id) || rgb === undefined) throw new RangeError(`token id ${id} is not a colour (colours are ${FIRST_PIXEL_ID}..${FIRST_PIXEL_ID + PALETTE_SIZE - 1})`);
  return rgb;
}

// skimage.color.colorconv: sRGB (D65) → XYZ matrix and the D65 / 2° reference white.
const XYZ_FROM_RGB = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
] as const;
const WHITE_D65 = [0.95047, 1.0, 1.08883] as const;

/** sRGB companding inverse, skimage's threshold 0.04045. */
function linearize(c8: number): number {
  const c = c8 / 255;
  return c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

/** skimage's f(t): cube root above 0.008856, else the linear segment 7.787·t + 16/116. */
function labF(t: number): number {
  return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116;
}

/** CIELAB of one 8-bit sRGB colour, exactly as `skimage.color.rgb2lab` (float64). */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const lr = linearize(r), lg = linearize(g), lb = linearize(b);
  const m = XYZ_FROM_RGB;
  const x = (m[0][0] * lr + m[0][1] * lg + m[0][2] * lb) / WHITE_D65[0];
  const y = (m[1][0] * lr + m[1][1] * lg + m[1][2] * lb) / WHITE_D65[1];
  const z = (m[2][0] * lr + m[2][1] * lg + m[2][2] * lb) / WHITE_D65[2];
  const fx = labF(x), fy = labF(y), fz = labF(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

// Inverse of the above (skimage `lab2rgb`), used to bring k-means centres back to 8-bit sRGB.
const RGB_FROM_XYZ = invert3(XYZ_FROM_RGB);

export function labToRgb(L: number, a: number, bStar: number): Rgb {
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - bStar / 200;
  const finv = (f: number) => (f > 0.2068966 ? f * f * f : (f - 16 / 116) / 7.787);
  const x = finv(fx) * WHITE_D65[0], y = finv(fy) * WHITE_D65[1], z = finv(fz) * WHITE_D65[2];
  const m = RGB_FROM_XYZ;
  const out = [0, 0, 0].map((_, i) => {
    const lin = m[i][0] * x + m[i][1] * y + m[i][2] * z;
    const c = lin > 0.0031308 ? 1.055 * Math.pow(lin, 1 / 2.4) - 0.055 : 12.92 * lin;
    return Math.min(255, Math.max(0, Math.round(c * 255)));
  });
  return [out[0], out[1], out[2]];
}

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m as number[][];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

export const PALETTE_LAB: readonly Lab[] = PALETTE.map(([r, g, b]) => rgbToLab(r, g, b));

/** Nearest palette index to a Lab colour; ties go to the lowest index (numpy argmin). */
export function nearestPaletteIndexLab(L: number, a: number, b: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let k = 0; k < PALETTE_LAB.length; k++) {
    const p = PALETTE_LAB[k];
    const d = (L - p[0]) ** 2 + (a - p[1]) ** 2 + (b - p[2]) ** 2;
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

// Sprites reuse a handful of colours, so the 55-way search is cached per 24-bit RGB value.
const nearestCache = new Map<number, number>();

/** Nearest palette index (0..54) of an 8-bit sRGB colour, in skimage CIELAB. */
export function nearestPaletteIndex(r: number, g: number, b: number): number {
  const key = (r << 16) | (g << 8) | b;
  let idx = nearestCache.get(key);
  if (idx === undefined) {
    const [L, A, B] = rgbToLab(r, g, b);
    idx = nearestPaletteIndexLab(L, A, B);
    nearestCache.set(key, idx);
  }
  return idx;
}

/** Token id (58..112) of the nearest palette colour. */
export function nearestColorId(r: number, g: number, b: number): number {
  return FIRST_PIXEL_ID + nearestPaletteIndex(r, g, b);
}
