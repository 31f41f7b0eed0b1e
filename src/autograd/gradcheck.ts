/**
 * gradcheck: the analytic vector–Jacobian product against central differences, in float64.
 *
 * For a function f of some tensors, draw a fixed random R shaped like f's output and check
 * ∂/∂x Σ(f(x)⊙R) for every element of every float input x: analytic (one backward pass) against
 * (L(x+ε) − L(x−ε)) / 2ε. Checking the VJP rather than the full Jacobian costs one forward pair
 * per input element, so even the paper-size ops stay affordable. An element passes when
 * |analytic − numeric| ≤ atol + rtol·|numeric|.
 */
import { Tensor } from '../tensor.js';
import { noGrad } from './grad_mode.js';
import { tidy } from '../memory.js';
import { CpuStorage } from '../storage.js';
import { Generator } from '../util/rng.js';
import { shapeStr } from '../util/shape.js';
import { fromArray } from '../creation.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the random cotangent R. */
  seed?: number;
  /** Check at most this many elements per input (evenly spread); default all. */
  maxElements?: number;
}

export interface GradcheckInputReport {
  index: number;
  shape: number[];
  maxAbsErr: number;
  maxRelErr: number;
  /** First failing elements: flat index, analytic, numeric. */
  failures: { i: number; analytic: number; numeric: number }[];
}

export interface GradcheckReport {
  ok: boolean;
  maxAbsErr: number;
  maxRelErr: number;
  inputs: GradcheckInputReport[];
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

function reduceOutputs(out: Tensor | Tensor[], rs: Tensor[]): Tensor {
  const outs = Array.isArray(out) ? out : [out];
  let total: Tensor | null = null;
  outs.forEach((o, k) => {
    if (o.dtype === 'int32') return;             // e.g. argmax indices: not differentiable
    const term = sum(mul(o, rs[k]));
    total = total ? addScalarTensors(total, term) : term;
  });
  if (!total) throw new Error('gradcheck: the function has no float output');
  return total;
}
function addScalarTensors(a: Tensor, b: Tensor): Tensor {
  return fromArray([a.item() + b.item()], [], { dtype: 'float64' });
}

/**
 * Checks fn's gradients with respect to every float64 input that requires grad.
 * Inputs must be float64 CPU tensors (int32 inputs, e.g. indices, are passed through unchecked).
 */
export function gradcheck(fn: Fn, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-5, rtol = opts.rtol ?? 1e-3;
  for (const [i, x] of inputs.entries()) {
    if (x.device !== 'cpu') throw new Error(`gradcheck: input ${i} is on '${x.device}'; gradcheck runs on the CPU in float64`);
    if (x.dtype === 'float32') throw new Error(`gradcheck: input ${i} ${shapeStr(x.shape)} is float32; use float64 inputs (central differences need the precision)`);
  }
  const checked = inputs.filter((x) => x.dtype === 'float64' && x.requiresGrad);
  if (checked.length === 0) throw new Error('gradcheck: no float64 input has requiresGrad');

  return tidy(() => {
    // 1. fixed random cotangents R, one per output
    const gen = new Generator(opts.seed ?? 1234);
    const out0 = noGrad(() => fn(...inputs));
    const outs0 = Array.isArray(out0) ? out0 : [out0];
    const rs = outs0.map((o) => fromArray(Array.from({ length: o.size }, () => gen.uniform(-1, 1)), o.shape, { dtype: 'float64' }));
    const lossAt = () => noGrad(() => reduceOutputs(fn(...inputs), rs).item());

    // 2. analytic: one backward of L = Σ f ⊙ R
    for (const x of checked) x.zeroGrad();
    const outs = fn(...inputs);
    const list = Array.isArray(outs) ? outs : [outs];
    let seeded = false;
    list.forEach((o, k) => {
      if (o.dtype === 'int32' || !o.requiresGrad) return;
      o.backward(rs[k], { retainGraph: k < list.length - 1 });
      seeded = true;
    });
    if (!seeded) throw new Error('gradcheck: no output depends on an input that requires grad');

    // 3. numeric, element by element, perturbing the input's own storage in place
    const reports: GradcheckInputReport[] = [];
    for (const x of checked) {
      const data = (x.storage as CpuStorage).data;
      const analytic = x.grad ? x.grad.toTyped() : new Float64Array(x.size);
      const stride = opts.maxElements && x.size > opts.maxElements ? x.size / opts.maxElements : 1;
      const rep: GradcheckInputReport = { index: inputs.indexOf(x), shape: [...x.shape], maxAbsErr: 0, maxRelErr: 0, failures: [] };
      for (let f = 0; f < x.size; f += stride) {
        const i = Math.floor(f);
        const orig = data[i];
        data[i] = orig + eps; const lp = lossAt();
        data[i] = orig - eps; const lm = lossAt();
        data[i] = orig;
        const numeric = (lp - lm) / (2 * eps);
        const err = Math.abs(analytic[i] - numeric);
        rep.maxAbsErr = Math.max(rep.maxAbsErr, err);
        rep.maxRelErr = Math.max(rep.maxRelErr, err / Math.max(Math.abs(numeric), 1e-12));
        if (!(err <= atol + rtol * Math.abs(numeric)) && rep.failures.length < 5) rep.failures.push({ i, analytic: analytic[i], numeric });
      }
      reports.push(rep);
      x.zeroGrad();
    }
    return {
      ok: reports.every((r) => r.failures.length === 0),
      maxAbsErr: Math.max(...reports.map((r) => r.maxAbsErr)),
      maxRelErr: Math.max(...reports.map((r) => r.maxRelErr)),
      inputs: reports,
    };
  });
}

/** Formats a failing report for an error message. */
export function describeFailures(name: string, r: GradcheckReport): string {
  const lines = [`gradcheck ${name}: max abs err ${r.maxAbsErr.toExponential(2)}, max rel err ${r.maxRelErr.toExponential(2)}`];
  for (const inp of r.inputs) for (const f of inp.failures) {
    lines.push(`  input ${inp.index} ${shapeStr(inp.shape)} [${f.i}]: analytic ${f.analytic} numeric ${f.numeric}`);
  }
  return lines.join('\n');
}
