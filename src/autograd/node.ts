/**
 * GradNode: one recorded op. It holds its inputs (to continue the walk), handles on the tensors
 * its backward needs (saved: own storage references, so disposing the user's handles inside
 * tidy cannot pull data from under backward), and the backward rule written beside the forward
 * in src/ops/.
 */
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './grad_mode.js';

/** Gradients of the outputs (null where an output got none) → gradients of the inputs. */
export type BackwardFn = (gradOutputs: (Tensor | null)[], saved: Tensor[]) => (Tensor | null)[];

export class GradNode {
  inputs: Tensor[];
  saved: Tensor[];
  backwardFn: BackwardFn | null;
  released = false;

  constructor(readonly op: string, inputs: Tensor[], saved: Tensor[], backwardFn: BackwardFn, readonly outputShapes: (readonly number[])[]) {
    this.inputs = inputs;
    this.saved = saved;
    this.backwardFn = backwardFn;
  }

  /** Drops everything the node holds (after its backward ran, or when the graph is freed). */
  release(): void {
    for (const s of this.saved) s.dispose();
    this.saved = [];
    this.inputs = [];
    this.backwardFn = null;
    this.released = true;
    savedRegistry.unregister(this);
  }
}

// Backstop for graphs that never see backward() (forward with grad on, then dropped): when the
// node is garbage-collected, its saved handles give their storage back.
const savedRegistry = new FinalizationRegistry<Tensor[]>((saved) => { for (const s of saved) s.dispose(); });

/**
 * Records `outputs = op(inputs)` for autodiff, if grad mode is on and any input requires grad.
 * `saved` are the tensors backward reads; backward receives the node's own handles on them
 * (valid even if the caller disposed the originals; never return or dispose them).
 * Returns the outputs (so ops can `return record(…)`).
 */
export function record<T extends Tensor | Tensor[]>(op: string, inputs: Tensor[], outputs: T, saved: Tensor[], backward: BackwardFn): T {
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return outputs;
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const savedViews = saved.map((t) => t.view());
  // saved handles belong to the node, not to any tidy scope
  for (const s of savedViews) untrackFromScopes(s);
  const node = new GradNode(op, inputs.slice(), savedViews, backward, outs.map((o) => o.shape));
  savedRegistry.register(node, savedViews, node);
  outs.forEach((o, i) => { o.node = node; o.outputIndex = i; o.requiresGrad = true; });
  return outputs;
}

/** Single-output shorthand: backward gets the one output gradient. */
export function record1(op: string, inputs: Tensor[], output: Tensor, saved: Tensor[],
  backward: (g: Tensor, saved: Tensor[]) => (Tensor | null)[]): Tensor {
  return record(op, inputs, output, saved, (gs, sv) => backward(gs[0]!, sv));
}

import { keep as untrackFromScopes } from '../memory.js';
