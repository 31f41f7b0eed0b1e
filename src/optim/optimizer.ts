/**
 * Optimizer: torch.optim.Optimizer, reduced. Parameters come as a list or as parameter groups
 * (each group may override the hyper-parameters; `paramGroups[i].lr` can be changed between
 * steps, as schedulers do). Per-parameter state is created lazily on the first step that sees a
 * gradient and named as PyTorch names it ('step', 'exp_avg', 'exp_avg_sq', 'momentum_buffer'), so
 * stateDict() has PyTorch's shape: { state: {index: {…}}, param_groups: [{…hyper, params: [index…]}] }
 * with parameters numbered in group order.
 *
 * For a checkpoint file, stateDictToTensors() flattens a state dict into named tensors
 * ('state.0.exp_avg', …) plus one JSON metadata string (steps and groups), ready for
 * saveSafetensors; stateDictFromTensors() reverses it. A run resumed from that equals the
 * uninterrupted run bit for bit (the update is a deterministic function of the state).
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { noGrad } from '../autograd/grad_mode.js';
import { keep } from '../memory.js';
import { shapeStr } from '../util/shape.js';

/** A parameter group: its tensors plus hyper-parameters overriding the optimizer's defaults. */
export interface ParamGroupSpec<H> { params: Tensor[]; options?: Partial<H> }
export type ParamsArg<H> = Tensor[] | ParamGroupSpec<H>[];

export interface ParamGroup<H> { params: Tensor[]; options: H }

/** One parameter's state: numbers (e.g. step) and tensors (e.g. exp_avg). */
export type ParamState = Record<string, number | Tensor>;

export interface OptimizerStateDict {
  /** Per parameter index (numbered over the groups in order); absent for parameters never stepped. */
  state: Record<number, ParamState>;
  /** Hyper-parameters per group (snake_case like PyTorch) and the indices of its parameters. */
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

export abstract class Optimizer<H extends object> {
  readonly paramGroups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsArg<H>, defaults: H, readonly name: string) {
    const specs: ParamGroupSpec<H>[] = params.length > 0 && !isTensor(params[0])
      ? (params as ParamGroupSpec<H>[])
      : [{ params: params as Tensor[] }];
    const seen = new Set<Tensor>();
    this.paramGroups = specs.map((s, gi) => {
      for (const p of s.params) {
        if (!isTensor(p)) throw new TypeError(`${name}: group ${gi} holds something that is not a tensor`);
        if (seen.has(p)) throw new Error(`${name}: parameter #${p.id} ${shapeStr(p.shape)} appears twice`);
        if (p.dtype === 'int32') throw new TypeError(`${name}: parameter #${p.id} ${shapeStr(p.shape)} is int32`);
        seen.add(p);
      }
      const options = { ...defaults, ...(s.options ?? {}) };
      this.validate(options);
      return { params: [...s.params], options };
    });
    if (seen.size === 0) throw new Error(`${name}: got an empty parameter list`);
  }

  /** Checks hyper-parameters (throws a RangeError naming the optimizer and the value). */
  protected abstract validate(options: H): void;
  /** Updates one parameter in place (under noGrad). */
  protected abstract update(p: Tensor, grad: Tensor, options: H, state: ParamState | undefined): ParamState;
  /** Hyper-parameters as PyTorch's param_groups spell them. */
  protected abstract hyperToDict(options: H): Record<string, unknown>;
  protected abstract hyperFromDict(d: Record<string, unknown>): H;
  /** State tensor names of this optimizer, e.g. ['exp_avg', 'exp_avg_sq']. */
  protected abstract readonly stateTensorNames: readonly string[];
  /** The state tensors a stepped parameter must have under these hyper-parameters. */
  protected requiredState(_options: H): readonly string[] { return this.stateTensorNames; }

  /** Every parameter, in group order (the numbering of stateDict). */
  params(): Tensor[] { return this.paramGroups.flatMap((g) => g.params); }

  /** Sets the learning rate of every group (schedulers). */
  setLr(lr: number): void { for (const g of this.paramGroups) (g.options as { lr: number }).lr = lr; }

  /** Drops every parameter's gradient (PyTorch's default set_to_none=True). */
  zeroGrad(): void { for (const p of this.params()) p.zeroGrad(); }

  /** One update of every parameter that has a gradient, in place, without recording a graph. */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (!p.grad) continue;
          if (p.grad.device !== p.device || p.grad.size !== p.size) {
            throw new Error(`${this.name}.step: gradient ${shapeStr(p.grad.shape)}@${p.grad.device} does not match parameter #${p.id} ${shapeStr(p.shape)}@${p.device}`);
          }
          this.state.set(p, this.update(p, p.grad, g.options, this.state.get(p)));
        }
      }
    });
  }

  /** A zero tensor like p, kept out of tidy scopes (optimizer state lives across steps). */
  protected zerosLike(p: Tensor): Tensor {
    return keep(empty(p.shape, p.dtype, p.device));
  }

  /** PyTorch-shaped state dict; its tensors are the live state (save it before the next step). */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const groups: OptimizerStateDict['param_groups'] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) state[index] = { ...s };
        ids.push(index++);
      }
      groups.push({ ...this.hyperToDict(g.options), params: ids });
    }
    return { state, param_groups: groups };
  }

  /**
   * Restores a state dict made by stateDict() of an optimizer over the same parameters (same
   * groups, counts and shapes). State tensors are copied onto each parameter's device; nothing is
   * changed unless the whole dict is valid.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.param_groups) || typeof sd.state !== 'object') {
      throw new Error(`${where}: not an optimizer state dict (needs 'state' and 'param_groups')`);
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new Error(`${where}: the state has ${sd.param_groups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const params = this.params();
    const hypers: H[] = [];
    sd.param_groups.forEach((gd, gi) => {
      const own = this.paramGroups[gi];
      if (!Array.isArray(gd.params) || gd.params.length !== own.params.length) {
        throw new Error(`${where}: group ${gi} has ${gd.params?.length} parameters in the state, ${own.params.length} here`);
      }
      const h = this.hyperFromDict(gd);
      this.validate(h);
      hypers.push(h);
    });
    const groupOf = this.paramGroups.flatMap((g, gi) => g.params.map(() => gi));
    const newState = new Map<Tensor, ParamState>();
    for (const [k, s] of Object.entries(sd.state)) {
      const i = Number(k);
      const p = params[i];
      if (!Number.isInteger(i) || !p) throw new Error(`${where}: state for parameter ${k}, but there are ${params.length} parameters`);
      const copy: ParamState = {};
      for (const [name, v] of Object.entries(s)) {
        if (typeof v === 'number') { copy[name] = v; continue; }
        if (!this.stateTensorNames.includes(name)) throw new Error(`${where}: unknown state tensor '${name}' for parameter ${i}`);
        if (v.size !== p.size || v.shape.join() !== p.shape.join() || v.dtype !== p.dtype) {
          throw new Error(`${where}: state '${name}' of parameter ${i} is ${v.dtype}${shapeStr(v.shape)}, the parameter is ${p.dtype}${shapeStr(p.shape)}`);
        }
      }
      for (const name of this.requiredState(hypers[groupOf[i]])) {
        if (!(name in s)) throw new Error(`${where}: parameter ${i} lacks state '${name}'`);
      }
      if (typeof s.step !== 'number' || !Number.isInteger(s.step) || s.step < 0) throw new Error(`${where}: parameter ${i} has no valid 'step'`);
      newState.set(p, copy);
    }
    // valid: commit
    for (const [, s] of this.state) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
    this.state.clear();
    for (const [k, s] of Object.entries(sd.state)) {
      const p = params[Number(k)];
      const copy = newState.get(p)!;
      for (const [name, v] of Object.entries(s)) if (typeof v !== 'number') copy[name] = keep(copyTo(v, p.device));
      this.state.set(p, copy);
    }
    hypers.forEach((h, gi) => { this.paramGroups[gi].options = h; });
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const [, s] of this.state) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
    this.state.clear();
  }
}

/** An independent copy of t on `device`. */
function copyTo(t: Tensor, device: string): Tensor {
  if (t.device !== device) return t.to(device);
  const c = empty(t.shape, t.dtype, t.device);
  runKernel('copy', [c], [t]);
  return c;
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { isTensor?: boolean }).isTensor === true;
}

/**
 * Flattens an optimizer state dict for a safetensors file: tensors named 'state.<i>.<name>'
 * (e.g. 'state.0.exp_avg') and metadata { optimizer: JSON of the param_groups and the per-parameter
 * numbers such as step }.
 */
export function stateDictToTensors(sd: OptimizerStateDict): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const tensors = new Map<string, Tensor>();
  const numbers: Record<string, Record<string, number>> = {};
  for (const [i, s] of Object.entries(sd.state)) {
    for (const [name, v] of Object.entries(s)) {
      if (typeof v === 'number') (numbers[i] ??= {})[name] = v;
      else tensors.set(`state.${i}.${name}`, v);
    }
  }
  return { tensors, metadata: { optimizer: JSON.stringify({ param_groups: sd.param_groups, state: numbers }) } };
}

/** The inverse of stateDictToTensors (the tensors are used as they are; loadStateDict copies them). */
export function stateDictFromTensors(tensors: Map<string, Tensor>, metadata: Record<string, string>): OptimizerStateDict {
  const raw = metadata.optimizer;
  if (typeof raw !== 'string') throw new Error("optimizer state: metadata has no 'optimizer' entry");
  let parsed: { param_groups: OptimizerStateDict['param_groups']; state: Record<string, Record<string, number>> };
  try { parsed = JSON.parse(raw); } catch (e) { throw new Error(`optimizer state: metadata 'optimizer' is not valid JSON (${(e as Error).message})`); }
  const state: Record<number, ParamState> = {};
  for (const [i, nums] of Object.entries(parsed.state ?? {})) state[Number(i)] = { ...nums };
  for (const [name, t] of tensors) {
    const m = /^state\.(\d+)\.([A-Za-z_0-9]+)$/.exec(name);
    if (!m) continue;
    (state[Number(m[1])] ??= {})[m[2]] = t;
  }
  return { state, param_groups: parsed.param_groups };
}
