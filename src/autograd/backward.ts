/**
 * Reverse-mode autodiff. The walk is iterative (an explicit stack, not recursion), so a graph
 * thousands of ops deep — an LSTM unrolled over 1024 steps — cannot overflow the call stack.
 *
 *   1. order the nodes reachable from the root so that every node comes after all nodes that
 *      consume its outputs (reverse post-order of a DFS over inputs);
 *   2. seed d(root) = 1 (or the given gradient);
 *   3. for each node in that order: run its backward under noGrad, check every returned gradient's
 *      shape against its input (tfjs tape.ts), and accumulate it — into the producing node's pending
 *      output gradients, or into `.grad` of a leaf (fan-out is a sum);
 *   4. release the node's saved tensors and its edges as soon as it has run (tinygrad's `del _ctx`).
 */
import { Tensor, setBackwardImpl } from '../tensor.js';
import type { GradNode } from './node.js';
import { noGrad, opContext, isAnomalyEnabled, AnomalyError } from './grad_mode.js';
import { keep, tidy } from '../memory.js';
import { shapeStr, sameShape } from '../util/shape.js';
import { add } from '../ops/elementwise.js';
import { onesLike } from '../creation.js';

export function backward(root: Tensor, grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
  if (!root.requiresGrad) throw new Error(`backward: tensor #${root.id} ${shapeStr(root.shape)} does not require grad (no input of its graph has requiresGrad)`);
  if (!grad && root.size !== 1) throw new Error(`backward: tensor #${root.id} has shape ${shapeStr(root.shape)}; pass a gradient of that shape, or reduce it to a scalar first`);
  if (grad && !sameShape(grad.shape, root.shape)) throw new Error(`backward: gradient ${shapeStr(grad.shape)} does not match tensor ${shapeStr(root.shape)}`);

  noGrad(() => {
    const seed = grad ? grad.view() : onesLike(root);
    if (!root.node) { accumulateLeaf(root, seed); return; }
    if (root.node.released) throw new Error(`backward: the graph of '${root.node.op}' was already freed by an earlier backward(); pass {retainGraph: true} to the first call`);

    const order = topoOrder(root.node);
    const pending = new Map<GradNode, (Tensor | null)[]>();
    pending.set(root.node, root.node.outputShapes.map((_, i) => (i === root.outputIndex ? seed : null)));

    for (const node of order) {
      const gradOuts = pending.get(node);
      pending.delete(node);
      if (!gradOuts || gradOuts.every((g) => g === null)) { if (!opts.retainGraph) node.release(); continue; }
      opContext.push({ op: node.op, phase: 'backward' });
      let gradIns: (Tensor | null)[];
      try {
        // tidy: temporaries of the backward rule are freed, the returned gradients survive
        gradIns = tidy(() => node.backwardFn!(gradOuts, node.saved));
      } finally {
        opContext.pop();
      }
      // a rule may pass an output gradient straight through (add, reshape): then it is not ours to free
      const used = new Set<Tensor>();
      gradIns = gradIns.map((g) => { if (!g) return g; const h = used.has(g) ? g.view() : g; used.add(g); return h; });
      for (const g of gradOuts) if (g && !used.has(g)) g.dispose();
      const inputs = node.inputs;
      if (gradIns.length !== inputs.length) throw new Error(`backward of '${node.op}' returned ${gradIns.length} gradients for ${inputs.length} inputs`);
      inputs.forEach((input, i) => {
        const g = gradIns[i];
        if (!g) return;
        if (!input.requiresGrad) { g.dispose(); return; }
        if (!sameShape(g.shape, input.shape) || g.dtype !== input.dtype) {
          throw new Error(`backward of '${node.op}': gradient #${i} is ${g.dtype}${shapeStr(g.shape)} but its input is ${input.dtype}${shapeStr(input.shape)}`);
        }
        if (isAnomalyEnabled()) checkFinite(g, node.op);
        if (input.retainsGrad && input.node) accumulateLeaf(input, g.view());
        if (input.node && !input.node.released) {
          const slot = pending.get(input.node) ?? input.node.outputShapes.map(() => null);
          const prev = slot[input.outputIndex];
          slot[input.outputIndex] = prev ? sumAndDispose(prev, g) : g;
          pending.set(input.node, slot);
        } else if (!input.node) {
          accumulateLeaf(input, g);
        } else {
          g.dispose();
        }
      });
      if (!opts.retainGraph) node.release();
    }
    for (const gs of pending.values()) for (const g of gs) g?.dispose();
  });
}

function sumAndDispose(a: Tensor, b: Tensor): Tensor {
  const s = add(a, b);
  a.dispose(); b.dispose();
  return s;
}

/** leaf.grad += g; the gradient belongs to the leaf, not to any tidy scope. */
function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  keep(g);
  if (leaf.grad === null) { leaf.grad = g; return; }
  const s = add(leaf.grad, g);
  leaf.grad.dispose(); g.dispose();
  leaf.grad = keep(s);
}

/** Nodes reachable from root, each after all of its consumers. Iterative DFS. */
function topoOrder(root: GradNode): GradNode[] {
  const post: GradNode[] = [];
  const visited = new Set<GradNode>([root]);
  const stack: [GradNode, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i].node;
      if (child && !child.released && !visited.has(child)) { visited.add(child); stack.push([child, 0]); }
    } else {
      stack.pop();
      post.push(node);
    }
  }
  return post.reverse();
}

function checkFinite(g: Tensor, op: string): void {
  const xs = g.toTyped();
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) {
      throw new AnomalyError(`anomaly: the backward of '${op}' produced ${xs[i]} at flat index ${i} of a gradient of shape ${shapeStr(g.shape)}`, op, 'backward');
    }
  }
}

setBackwardImpl(backward);
