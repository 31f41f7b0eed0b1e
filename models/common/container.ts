/** A list of sub-modules named '0', '1', … (PyTorch's nn.ModuleList), for parameter names like `layers.0.x`. */
import { Module } from '../../src/nn/module.js';

export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.registerModule(String(i), m));
  }
}

/** A module holding one named child (PyTorch's attribute nesting, e.g. `transformer_encoder.layers`). */
export class Holder<M extends Module> extends Module {
  constructor(name: string, readonly child: M) {
    super();
    this.registerModule(name, child);
  }
}
