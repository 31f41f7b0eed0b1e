import { describe, expect, it } from 'vitest';
import { manualSeed } from '../../src/index.js';
import { PRESETS, findPreset, START_PRESET } from '../../models/common/presets.js';
import { createModel } from '../../models/common/factory.js';
import { configName, isCausal } from '../../models/common/config.js';

describe('the paper\'s 15 configurations (spec §4.4, §3.6)', () => {
  it('are all there, with the original names', () => {
    const paper = PRESETS.filter((p) => p.paper);
    expect(paper.length).toBe(15);
    expect(paper.map((p) => p.name)).toContain('rnn_bi_pxby_conv_81_dim_64_state_2_layer');
    expect(paper.map((p) => p.name)).toContain('rnn_bi_center_81_dim_64_state_2_layer');
    expect(paper.map((p) => p.name)).toContain('attention_bi_pxby_conv_81_dim_64_state_2_layer');
    expect(paper.map((p) => p.name)).toContain('ssm_uni_pxby_conv_81_dim_64_state_2_layer');
    for (const p of PRESETS) expect(configName(p.model)).toBe(p.name);
  });

  it('accept the original\'s other spellings (eval files, train CSVs, _best/_last)', () => {
    expect(findPreset('rnn_bi_pxby_81_dim_64_state_2_layer_last').name).toBe('rnn_bi_pxby_conv_81_dim_64_state_2_layer');
    expect(findPreset('rnn_bi_pxby_81-dim_64-state_2-layer.csv').name).toBe('rnn_bi_pxby_conv_81_dim_64_state_2_layer');
    expect(findPreset('attention_pxby_81-dim_64-state_1-layer').name).toBe('attention_bi_pxby_conv_81_dim_64_state_1_layer');
    expect(() => findPreset('nope')).toThrow(/unknown preset 'nope'/);
  });

  it('build models with exactly the paper\'s parameter counts', () => {
    manualSeed(0);
    for (const p of PRESETS.filter((x) => x.paper)) {
      const m = createModel(p.model);
      expect(m.numParameters(), p.name).toBe(p.paper!.params);
    }
  });

  it('use the original state-dict names', () => {
    const names = (preset: string) => [...createModel(findPreset(preset).model).namedParameters()].map(([n]) => n);
    expect(names('rnn_bi_pxby_conv_81_dim_64_state_3_layer')).toEqual(expect.arrayContaining([
      'embedding.alpha', 'embedding.projection.weight', 'embedding.norm.bias', 'embedding.linear_embedding.weight', 'embedding.patch_embedding.weight',
      '_lstm.weight_ih_l0', '_lstm.weight_hh_l0_reverse', '_lstm.bias_hh_l0_reverse', 'lstm.weight_ih_l1', 'fc.weight', 'fc.bias',
    ]));
    expect(names('rnn_bi_center_81_dim_64_state_2_layer')).toContain('embedding.weight');
    expect(names('attention_bi_pxby_conv_81_dim_64_state_2_layer')).toEqual(expect.arrayContaining([
      'transformer_encoder.layers.0.self_attn.in_proj_weight', 'transformer_encoder.layers.1.self_attn.out_proj.weight',
      'transformer_encoder.layers.1.linear1.weight', 'transformer_encoder.layers.0.norm2.bias', 'fc.weight',
    ]));
    expect(names('ssm_bi_pxby_conv_81_dim_64_state_2_layer')).toEqual(expect.arrayContaining([
      '_mamba.in_proj.weight', '_mamba.conv1d.weight', '_mamba.x_proj.weight', '_mamba.dt_proj.bias', '_mamba.A_log', '_mamba.D',
      '_mamba.out_proj.weight', 'layers.0.in_proj.weight', 'norm.weight', 'lm_head.weight',
    ]));
    expect(names('ssm_bi_pxby_conv_81_dim_64_state_2_layer')).not.toContain('lm_head.bias');
  });

  it('the Transformer width is ⌊D/4⌋·4 and its layers start identical (nn.TransformerEncoder clones one layer)', () => {
    const m = createModel(findPreset('attention_bi_pxby_conv_81_dim_64_state_2_layer').model);
    const p = new Map(m.namedParameters());
    expect(p.get('fc.weight')!.shape).toEqual([113, 80]);
    expect(p.get('transformer_encoder.layers.1.linear1.weight')!.toArray()).toEqual(p.get('transformer_encoder.layers.0.linear1.weight')!.toArray());
  });

  it('the npm start model is causal', () => {
    expect(isCausal(findPreset(START_PRESET).model)).toBe(true);
  });
});
