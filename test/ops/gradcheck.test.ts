// Runs every registered gradcheck case (the same list `pixelbytes gradcheck` prints), and checks
// that gradcheck itself can fail: a deliberately wrong backward must be caught.
import { describe, it, expect } from 'vitest';
import '../../src/index.js';
import { allCases } from '../../src/gradcheck/index.js';
import { runCase } from '../../src/gradcheck/cli.js';
import { gradcheck, fromArray, record1, empty, runKernel, Tensor } from '../../src/index.js';

describe('gradcheck: every registered op', () => {
  it.each(allCases.map((c) => [`${c.op} ${c.shapes}`, c] as const))('%s', (_name, c) => {
    const r = runCase(c);
    expect(r.error ?? '', `${c.op} ${c.shapes}`).toBe('');
    expect(r.ok).toBe(true);
  });
});

describe('gradcheck itself', () => {
  // y = x², but the backward claims dy/dx = 3x: gradcheck must report it.
  function badSquare(x: Tensor): Tensor {
    const out = empty(x.shape, x.dtype, x.device);
    runKernel('mul', [out], [x, x], [1, x.size, 1, 1]);
    return record1('badSquare', [x], out, [x], (g, [x_]) => {
      const dx = empty(x.shape, x.dtype, x.device);
      runKernel('affine', [dx], [x_], [], [3, 0]);
      const r = empty(x.shape, x.dtype, x.device);
      runKernel('mul', [r], [dx, g], [1, x.size, 1, 1]);
      return [r];
    });
  }

  it('catches a wrong backward and names the failing elements', () => {
    const x = fromArray([0.5, -1, 2], [3], { dtype: 'float64' }).requiresGrad_();
    const r = gradcheck(badSquare, [x]);
    expect(r.ok).toBe(false);
    expect(r.inputs[0].failures.length).toBe(3);
    // analytic = 3x·R, numeric = 2x·R: ratio 1.5 on every element
    for (const f of r.inputs[0].failures) expect(f.analytic / f.numeric).toBeCloseTo(1.5, 6);
  });

  it('refuses float32 inputs (central differences need float64)', () => {
    const x = fromArray([1, 2], [2]).requiresGrad_();
    expect(() => gradcheck((t) => t, [x])).toThrow(/float32/);
  });
});
