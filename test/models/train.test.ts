import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTraining, NanLossError } from '../../models/common/train_loop.js';
import { loadCheckpoint } from '../../models/common/checkpoint.js';
import { objectiveProblem } from '../../models/common/config.js';
import { fixtureRows } from './fixtures.js';
import { tinyModel, tinyTrain, tmp } from './helpers.js';

const rows = fixtureRows();
const quiet = { log: () => {}, progress: false } as const;

describe('trainer', () => {
  it('dense refuses a non-causal model with a clear message', async () => {
    for (const m of [tinyModel({ family: 'rnn', bidirectional: true }), tinyModel({ family: 'ssm', bidirectional: true }), tinyModel({ family: 'attention', causal: false })]) {
      expect(objectiveProblem(m, 'dense')).toMatch(/dense objective needs a causal model/);
      await expect(runTraining({ name: 'x', model: m, train: tinyTrain({ objective: 'dense' }), trainRows: rows, testRows: rows, out: tmp('refuse'), ...quiet }))
        .rejects.toThrow(/dense objective needs a causal model/);
    }
    expect(objectiveProblem(tinyModel({ family: 'rnn', bidirectional: false }), 'dense')).toBeNull();
    expect(objectiveProblem(tinyModel({ family: 'attention', causal: true }), 'dense')).toBeNull();
    expect(objectiveProblem(tinyModel({ family: 'rnn', bidirectional: true }), 'last')).toBeNull();
  });

  it('writes the CSV with the original columns, the plot, best/ and last/', async () => {
    const out = tmp('files');
    const r = await runTraining({ name: 'rnn', model: tinyModel({}), train: tinyTrain({ epochs: 2, evalEvery: 1 }), trainRows: rows, testRows: rows.slice(0, 1), out, ...quiet });
    expect(r.status).toBe('done');
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,train_eval_loss,train_accuracy,train_f1,test_loss,test_accuracy,test_f1');
    expect(csv.map((l) => l.split(',')[0])).toEqual(['epoch', '0', '1', '2']);
    // epoch 0: the test numbers copied into the train columns
    const e0 = csv[1].split(',').map(Number);
    expect(e0.slice(1, 4)).toEqual(e0.slice(4, 7));
    expect(e0[1]).toBeGreaterThan(4); // ≈ ln 113 untrained
    expect(readFileSync(join(out, 'training.svg'), 'utf8')).toMatch(/^<svg/);
    for (const d of ['best', 'last']) for (const f of ['model.safetensors', 'config.json']) expect(existsSync(join(out, d, f))).toBe(true);
    expect(existsSync(join(out, 'last', 'optimizer.safetensors'))).toBe(true);
    const ck = loadCheckpoint(join(out, 'best'));
    expect(ck.model.numParameters()).toBe(r.model.numParameters());
  });

  it('resume equals an uninterrupted run (losses within 1e-6, same weights)', async () => {
    for (const [model, train] of [
      [tinyModel({ family: 'rnn', bidirectional: true }), tinyTrain({ epochs: 3, evalEvery: 2 })],
      [tinyModel({ family: 'rnn', bidirectional: false }), tinyTrain({ objective: 'dense', stride: 12, epochs: 3, evalEvery: 1 })],
    ] as const) {
      const a = tmp('straight'), b = tmp('resumed');
      const straight = await runTraining({ name: 'r', model, train, trainRows: rows, testRows: rows.slice(0, 1), out: a, ...quiet });
      const n = straight.losses.length;
      expect(n).toBeGreaterThan(6);
      const k = Math.floor(n / 2) + 1; // mid-epoch
      const first = await runTraining({ name: 'r', model, train, trainRows: rows, testRows: rows.slice(0, 1), out: b, maxSteps: k, ...quiet });
      expect(first.status).toBe('steps');
      const second = await runTraining({ name: 'r', model, train, trainRows: rows, testRows: rows.slice(0, 1), out: b, resume: true, ...quiet });
      const resumed = [...first.losses, ...second.losses];
      expect(resumed.length).toBe(n);
      resumed.forEach((l, i) => expect(Math.abs(l - straight.losses[i])).toBeLessThan(1e-6));
      const pa = [...straight.model.namedParameters()], pb = new Map(second.model.namedParameters());
      for (const [name, p] of pa) expect(pb.get(name)!.toArray()).toEqual(p.toArray());
      expect(readFileSync(join(b, 'metrics.csv'), 'utf8')).toBe(readFileSync(join(a, 'metrics.csv'), 'utf8'));
    }
  });

  it('a Ctrl-C request saves last/ and stops cleanly', async () => {
    const out = tmp('sigint');
    let calls = 0;
    const r = await runTraining({ name: 'r', model: tinyModel({}), train: tinyTrain({}), trainRows: rows, testRows: rows, out, shouldStop: () => ++calls >= 2, ...quiet });
    expect(r.status).toBe('interrupted');
    expect(r.globalStep).toBe(2);
    expect(existsSync(join(out, 'last', 'optimizer.safetensors'))).toBe(true);
  });

  it('a NaN loss stops the run, naming the step', async () => {
    const out = tmp('nan');
    await expect(runTraining({ name: 'r', model: tinyModel({}), train: tinyTrain({ lr: 1e30 }), trainRows: rows, testRows: rows, out, ...quiet }))
      .rejects.toThrow(NanLossError);
    await expect(runTraining({ name: 'r', model: tinyModel({}), train: tinyTrain({ lr: 1e30 }), trainRows: rows, testRows: rows, out: tmp('nan2'), ...quiet }))
      .rejects.toThrow(/loss is NaN at step \d+ \(epoch \d+, batch \d+\)/);
  });
});
