/**
 * Seeded pseudo-random numbers. Every random thing in PixelBytes.ts (initialisation, dropout,
 * shuffling, sampling, test inputs) draws from a Generator so runs are reproducible.
 *
 * Generator: xoshiro128** (Blackman & Vigna), seeded through splitmix32. Its whole state is four
 * uint32 words, so it can be saved into a checkpoint and restored exactly (getState/setState).
 */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null; // second Box–Muller normal

  constructor(seed = 0) { this.seed(seed); }

  seed(seed: number): this {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) { x = (x + 0x9e3779b9) >>> 0; this.s[i] = splitmix32(x); }
    this.spare = null;
    return this;
  }

  /** Next uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  random(): number { return this.nextUint32() / 4294967296; }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number { return lo + (hi - lo) * this.random(); }

  /** Standard normal (Box–Muller; the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number { return Math.floor(this.random() * n); }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) { const j = this.int(i + 1); [xs[i], xs[j]] = [xs[j], xs[i]]; }
    return xs;
  }

  getState(): number[] { return [...this.s, this.spare === null ? NaN : this.spare]; }
  setState(state: number[]): void {
    for (let i = 0; i < 4; i++) this.s[i] = state[i] >>> 0;
    this.spare = Number.isNaN(state[4]) || state[4] === undefined || state[4] === null ? null : state[4];
  }
}

function rotl(x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0; }

export function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) >>> 0;
  let z = a;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Counter-based uniform in [0, 1): a pure function of (seed, index). Dropout masks use it so that
 * the CPU kernel and any device kernel draw the same mask for the same seed without sharing state.
 * The same formula is written in native/ (keep them identical).
 */
export function hashUniform(seed: number, index: number): number {
  const h = splitmix32((Math.imul(index >>> 0, 0x27d4eb2d) ^ splitmix32(seed >>> 0)) >>> 0);
  return h / 4294967296;
}

/** The process-wide default generator; `manualSeed` resets it. */
export const defaultGenerator = new Generator(0);
export function manualSeed(seed: number): void { defaultGenerator.seed(seed); }
