/**
 * Shared by the native test files: which native devices can run here (and why not), seeded
 * inputs, and the element-wise comparison `|actual − ref| ≤ atol + rtol·|ref|` that prints the
 * first mismatches (llm.c's validate_result), with NaN matching NaN (poisoned, never-written
 * outputs show up as mismatches against a written reference).
 */
import '../../src/index.js';
import { hasDevice, unavailableDevices } from '../../src/device.js';
import { loadNative, type NativeAddon } from '../../src/backend/native/addon.js';
import { Generator } from '../../src/util/rng.js';

export const NATIVE_DEVICES = ['cpu-native', 'cuda-emu', 'cuda'] as const;
export type NativeDevice = (typeof NATIVE_DEVICES)[number];

export function deviceStatus(device: string): { available: boolean; reason: string } {
  if (hasDevice(device)) return { available: true, reason: '' };
  const r = new Map(unavailableDevices()).get(device);
  return { available: false, reason: r ?? 'not registered' };
}

/** The title of a device's describe block: says why it is skipped when it is. */
export function suiteTitle(what: string, device: string): string {
  const s = deviceStatus(device);
  return s.available ? `${what} on ${device}` : `${what} on ${device} — skipped: ${s.reason}`;
}

/** The emulator library for raw launches (self-tests), or null with the reason. */
export function emuAddon(): { addon: NativeAddon | null; reason: string } {
  const l = loadNative('cuda-emu');
  return { addon: l.reason === null ? l.addon : null, reason: l.reason ?? '' };
}

export interface Tol { atol: number; rtol: number }

/** null when every element is close; otherwise a report of the first mismatches. */
export function closeReport(actual: ArrayLike<number>, ref: ArrayLike<number>, tol: Tol, label = ''): string | null {
  if (actual.length !== ref.length) return `${label}: length ${actual.length} vs reference ${ref.length}`;
  const bad: string[] = [];
  let nBad = 0, maxAbs = 0, maxRel = 0, num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = actual[i], r = ref[i];
    if (Number.isNaN(r) && Number.isNaN(a)) continue;
    if (r === a) continue;   // equal infinities included
    const d = Math.abs(a - r);
    if (Number.isFinite(d)) { num += d * d; den += r * r; maxAbs = Math.max(maxAbs, d); if (r !== 0) maxRel = Math.max(maxRel, d / Math.abs(r)); }
    if (!(d <= tol.atol + tol.rtol * Math.abs(r))) {
      if (nBad < 5) bad.push(`  [${i}] got ${a}, expected ${r} (|Δ| ${d.toExponential(2)}, allowed ${(tol.atol + tol.rtol * Math.abs(r)).toExponential(2)})`);
      nBad++;
    }
  }
  if (nBad === 0) return null;
  return `${label}: ${nBad} of ${ref.length} elements differ (atol ${tol.atol}, rtol ${tol.rtol}; max |Δ| ${maxAbs.toExponential(3)}, max rel ${maxRel.toExponential(3)}, ‖Δ‖/‖ref‖ ${(Math.sqrt(num) / Math.sqrt(den || 1)).toExponential(3)}); first mismatches:\n${bad.join('\n')}`;
}

export function expectClose(actual: ArrayLike<number>, ref: ArrayLike<number>, tol: Tol, label = ''): void {
  const r = closeReport(actual, ref, tol, label);
  if (r !== null) throw new Error(r);
}

export function uniform(g: Generator, n: number, lo = -1, hi = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = g.uniform(lo, hi);
  return x;
}

export function normal(g: Generator, n: number, std = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = std * g.normal();
  return x;
}

export function ints(g: Generator, n: number, lo: number, hi: number): Int32Array {
  const x = new Int32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + g.int(hi - lo);
  return x;
}
