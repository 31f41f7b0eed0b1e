/**
 * Module: PyTorch's nn.Module, reduced to what a reference implementation needs.
 *
 * Parameters and sub-modules are registered by name (`registerParameter`, `registerModule`,
 * `registerBuffer`), so `namedParameters()` yields exactly the dotted names PyTorch would use
 * ('layers.0.weight_ih_l0', 'embed.conv.weight', …) — the names safetensors checkpoints carry.
 */
import { Tensor, parameter } from '../tensor.js';
import { keep } from '../memory.js';
import { shapeStr } from '../util/shape.js';

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _modules = new Map<string, Module>();

  /** Registers a trainable tensor (kept out of tidy scopes, requiresGrad on). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    this._params.set(name, parameter(t));
    return t;
  }
  /** Registers a non-trainable tensor that belongs to the state dict (e.g. running stats). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this._buffers.set(name, keep(t));
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this._modules.set(name, m);
    return m;
  }

  /** The parameter registered under a local name (after to()/load it is the same object). */
  protected param(name: string): Tensor {
    const p = this._params.get(name);
    if (!p) throw new Error(`${this.constructor.name}: no parameter '${name}'`);
    return p;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this._params) yield [prefix + n, p];
    for (const [n, m] of this._modules) yield* m.namedParameters(`${prefix}${n}.`);
  }
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this._buffers) yield [prefix + n, b];
    for (const [n, m] of this._modules) yield* m.namedBuffers(`${prefix}${n}.`);
  }
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix.replace(/\.$/, ''), this];
    for (const [n, m] of this._modules) yield* m.namedModules(`${prefix}${n}.`);
  }
  parameters(): Tensor[] { return [...this.namedParameters()].map(([, p]) => p); }
  numParameters(): number { return this.parameters().reduce((s, p) => s + p.size, 0); }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }
  eval(): this { return this.train(false); }

  zeroGrad(): void { for (const p of this.parameters()) p.zeroGrad(); }

  /** Moves every parameter and buffer to a device, in place (the Tensor objects stay the same). */
  to(device: string): this {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
      if (t.device === device) continue;
      const moved = t.to(device);
      t.adopt(moved);
    }
    return this;
  }

  /** Name → tensor for every parameter and buffer (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values from a state dict into this module's tensors (on their current device).
   * Strict: every name must be present with the same shape and dtype, and no unknown name may be
   * left over — a checkpoint never loads partially.
   */
  loadStateDict(state: Map<string, Tensor>): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    if (missing.length) problems.push(`missing: ${missing.join(', ')}`);
    if (unexpected.length) problems.push(`unexpected: ${unexpected.join(', ')}`);
    for (const [k, t] of own) {
      const s = state.get(k);
      if (s && (s.dtype !== t.dtype || s.shape.join() !== t.shape.join())) {
        problems.push(`${k}: expected ${t.dtype}${shapeStr(t.shape)}, got ${s.dtype}${shapeStr(s.shape)}`);
      }
    }
    if (problems.length) throw new Error(`loadStateDict(${this.constructor.name}): ${problems.join('; ')}`);
    for (const [k, t] of own) {
      const moved = state.get(k)!.to(t.device);
      t.adopt(moved);
    }
  }
}

