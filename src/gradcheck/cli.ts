/**
 * `pixelbytes gradcheck [--quick] [--op NAME] [--json]`: runs every registered case and prints
 * one row per case (op, shapes, max abs err, max rel err, pass). Exits 1 if any case fails.
 */
import { parseArgs } from 'node:util';
import { allCases } from './index.js';
import { gradcheck } from '../autograd/gradcheck.js';
import { Generator } from '../util/rng.js';
import { tidy } from '../memory.js';

export interface CaseResult { op: string; shapes: string; maxAbsErr: number; maxRelErr: number; ok: boolean; ms: number; error?: string }

export function runCase(c: (typeof allCases)[number], seed = 0): CaseResult {
  const t0 = performance.now();
  try {
    return tidy(() => {
      const { fn, inputs, opts } = c.build(new Generator(seed));
      const r = gradcheck(fn, inputs, opts);
      return { op: c.op, shapes: c.shapes, maxAbsErr: r.maxAbsErr, maxRelErr: r.maxRelErr, ok: r.ok, ms: performance.now() - t0,
        error: r.ok ? undefined : r.inputs.flatMap((i) => i.failures.map((f) => `input ${i.index}[${f.i}]: analytic ${f.analytic} vs numeric ${f.numeric}`)).slice(0, 3).join('; ') };
    });
  } catch (e) {
    return { op: c.op, shapes: c.shapes, maxAbsErr: NaN, maxRelErr: NaN, ok: false, ms: performance.now() - t0, error: (e as Error).message };
  }
}

export async function gradcheckCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: {
    quick: { type: 'boolean', default: false },
    op: { type: 'string' },
    json: { type: 'boolean', default: false },
    seed: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  } });
  if (values.help) {
    console.log('usage: pixelbytes gradcheck [--quick] [--op NAME] [--seed N] [--json]\n\nChecks every registered differentiable op: analytic vector-Jacobian product vs central differences in float64.');
    return 0;
  }
  const selected = allCases.filter((c) => (!values.op || c.op === values.op) && !(values.quick && c.slow));
  if (selected.length === 0) { console.error(`gradcheck: no case matches --op ${values.op}`); return 2; }
  const results: CaseResult[] = [];
  if (!values.json) console.log(`${'op'.padEnd(22)} ${'shapes'.padEnd(44)} ${'max abs err'.padStart(11)} ${'max rel err'.padStart(11)}  pass`);
  for (const c of selected) {
    const r = runCase(c, Number(values.seed));
    results.push(r);
    if (!values.json) {
      console.log(`${r.op.padEnd(22)} ${r.shapes.slice(0, 44).padEnd(44)} ${r.maxAbsErr.toExponential(2).padStart(11)} ${r.maxRelErr.toExponential(2).padStart(11)}  ${r.ok ? 'ok' : 'FAIL'}`);
      if (!r.ok) console.log(`    ${r.error}`);
    }
  }
  const failed = results.filter((r) => !r.ok);
  const ops = new Set(results.map((r) => r.op));
  if (values.json) console.log(JSON.stringify(results, null, 2));
  else console.log(`\n${results.length - failed.length} passed, ${failed.length} failed (${results.length} cases over ${ops.size} ops)`);
  return failed.length ? 1 : 0;
}
