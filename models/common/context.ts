/**
 * Rebuilding the 3×3 window of each generated token (spec §2.5, the original's
 * `SequenceGenerator._process_token`), from the centre stream alone.
 *
 * The "clock" is the list of positions of byte (non-pixel) tokens; its last two entries a, b give
 * the period of the current image row (gap = b − a) and so where the row above starts
 * (i = n − gap − 1 is the up-left neighbour of position n). Prompts seed the clock as the
 * original's `_find_clock`: [0, 0], then every byte position, the first one twice.
 *
 * One deliberate change (on by default, `fixWrap`): a byte right after LF gets left = 0, as in the
 * dataset, where every segment's first token has no left neighbour. The original generator put
 * LF there, so after a caption's LF the wrap to the next "(" saw a window the model never met in
 * training (spec §2.5, §7). `fixWrap: false` restores the original rule.
 */
import { FIRST_PIXEL_ID, LF_ID, TAB_ID } from '../../data-tools/index.js';
import { WINDOW } from './windows.js';

const isPixel = (id: number): boolean => id >= FIRST_PIXEL_ID;
const isByte = (id: number): boolean => id < FIRST_PIXEL_ID;

export interface ContextOptions {
  /** Left neighbour 0 for a byte that follows LF (dataset-consistent). Default true. */
  fixWrap?: boolean;
}

export class WindowStream {
  /** Centre ids so far. */
  readonly centres: number[] = [];
  /** Windows so far, 9 ids each, flat. */
  readonly windows: number[] = [];
  private clock: number[] = [0, 0];
  private readonly fixWrap: boolean;

  /** Starts from prompt windows (flat n × 9, as the dataset made them), possibly none. */
  constructor(promptWindows: ArrayLike<number> = [], opts: ContextOptions = {}) {
    this.fixWrap = opts.fixWrap ?? true;
    if (promptWindows.length % WINDOW !== 0) throw new RangeError(`WindowStream: prompt has ${promptWindows.length} cells, not a multiple of 9`);
    let bytesSeen = 0;
    for (let w = 0; w < promptWindows.length; w += WINDOW) {
      const n = w / WINDOW;
      const centre = promptWindows[w + 4];
      for (let k = 0; k < WINDOW; k++) this.windows.push(promptWindows[w + k]);
      this.centres.push(centre);
      if (isByte(centre)) {
        this.clock.push(n);
        if (bytesSeen === 0) this.clock.push(n);
        bytesSeen++;
      }
    }
  }

  get length(): number { return this.centres.length; }

  /** Centre id at k, 0 outside the stream. */
  private s(k: number): number { return k >= 0 && k < this.centres.length ? this.centres[k] : 0; }

  /** The window the original generator builds for a new token (does not append it). */
  windowFor(token: number): number[] {
    const n = this.centres.length;
    if (n === 0) return [0, 0, 0, 0, token, 0, 0, 0, 0];
    const prev = this.centres[n - 1];
    const prevPrevPixel = n > 1 && isPixel(this.centres[n - 2]);
    const a = this.clock[this.clock.length - 2], b = this.clock[this.clock.length - 1];
    const gap = b - a, i = n - gap - 1;
    const s = (k: number) => this.s(k);
    if (isByte(token)) {
      if (token === LF_ID || token === TAB_ID) {
        if (isPixel(prev)) return gap === 1 ? [0, 0, 0, prev, token, 0, 0, 0, 0] : [s(i), s(i + 1), 0, prev, token, 0, 0, 0, 0];
        return [0, 0, 0, prev, token, 0, 0, 0, 0];
      }
      const left = prevPrevPixel || (this.fixWrap && prev === LF_ID) ? 0 : prev;
      return [0, 0, 0, left, token, 0, 0, 0, 0];
    }
    if (prev === TAB_ID && gap > 1) return [0, s(i + 1), s(i + 2), 0, token, 0, 0, 0, 0];
    if (isByte(prev)) return [0, 0, 0, 0, token, 0, 0, 0, 0];
    if (n - b > gap) return [0, 0, 0, prev, token, 0, 0, 0, 0];
    return [s(i), s(i + 1), s(i + 2), prev, token, 0, 0, 0, 0];
  }

  /** Appends a token: builds its window, updates the clock; returns the window. */
  push(token: number): number[] {
    const n = this.centres.length;
    const win = this.windowFor(token);
    if (n === 0) {
      this.clock = [0, 0];
    } else if (isByte(token)) {
      this.clock.push(n);
    } else if (isByte(this.centres[n - 1]) && !(this.centres[n - 1] === TAB_ID && this.gap() > 1) && this.centres[n - 1] !== LF_ID) {
      // first pixel of an image after a byte other than LF: the original appends n to the clock
      this.clock.push(n);
    }
    this.centres.push(token);
    for (const v of win) this.windows.push(v);
    return win;
  }

  private gap(): number { return this.clock[this.clock.length - 1] - this.clock[this.clock.length - 2]; }

  /** The last `count` windows (flat), or all of them. */
  tail(count = this.length): Int32Array {
    const k = Math.min(count, this.length);
    return Int32Array.from(this.windows.slice((this.length - k) * WINDOW));
  }
}

/** Windows of a 1-row text segment (shape text or caption) ending with LF, as the dataset builds them. */
export function textWindows(ids: readonly number[], withLf = true): Int32Array {
  const all = withLf ? [...ids, LF_ID] : [...ids];
  const out = new Int32Array(all.length * WINDOW);
  all.forEach((id, k) => {
    out[k * WINDOW + 3] = k === 0 ? 0 : all[k - 1];
    out[k * WINDOW + 4] = id;
  });
  return out;
}
