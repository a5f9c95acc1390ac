import { describe, expect, it } from 'vitest';
import { isCompressionResult, parseCompressionResult } from './compression-result';

const result = {
  method: 'structured',
  backend: 'wasm',
  runDir: '/runs/compress-1',
  modelPath: '/runs/compress-1/model',
  before: {
    accuracy: 0.9012,
    params: 61706,
    macs: 420_000,
    sizeBytes: 247_000,
    sizeGzipBytes: 228_000,
    latencyMs: { batch1: 1.25, batch32: 9.5 },
    weightDtype: 'float32',
  },
  after: {
    accuracy: 0.8933,
    params: 30_001,
    macs: 200_000,
    sizeBytes: 120_500,
    latencyMs: { batch1: 0.9 },
  },
  energy: {
    before: { joules: 0.8, label: 'modelled:op-count', source: 'Horowitz 45 nm' },
    after: { joules: null, label: 'unavailable', source: 'op-count', reason: 'no MAC counts' },
    assumptions: ['after: int8 hardware'],
    measured: {
      inference: {
        status: 'measured',
        result: {
          original: {
            total: {
              gross: { median: 1.01, values: [1, 1.01, 1.2], label: 'modelled:tdp-load', source: 'TDP' },
            },
          },
          compressed: { total: { gross: { median: 0.83, label: 'modelled:tdp-load', source: 'TDP' } } },
        },
      },
      training: {
        original: { perEpoch: { median: 92.1, label: 'modelled:tdp-load', source: 'TDP' } },
        compressed: { perEpoch: { median: null, label: 'unavailable', source: 'TDP', reason: 'resumed' } },
      },
    },
  },
  layers: [
    {
      name: 'conv2d_1',
      className: 'Conv2D',
      channelsBefore: 6,
      channelsAfter: 3,
      paramsBefore: 156,
      paramsAfter: 78,
      sparsity: 0,
    },
    { name: '<b>dense</b>', className: 'Dense', paramsBefore: 100, paramsAfter: 50, inbound: ['x'] },
  ],
  notes: ['latency is measured on wasm'],
  realised: ['the pruned model is genuinely smaller'],
  evaluation: { split: 'test', samples: 2000 },
};

describe('parseCompressionResult', () => {
  it('reads before and after figures; a missing figure stays undefined', () => {
    const view = parseCompressionResult(result);
    expect(view.method).toBe('structured');
    expect(view.backend).toBe('wasm');
    expect(view.modelPath).toBe('/runs/compress-1/model');
    expect(view.before).toEqual({
      accuracy: 0.9012,
      params: 61706,
      macs: 420_000,
      sizeBytes: 247_000,
      sizeGzipBytes: 228_000,
      latencyBatch1Ms: 1.25,
      latencyBatch32Ms: 9.5,
      weightDtype: 'float32',
      inferenceEnergy: { joules: 1.01, label: 'modelled:tdp-load', source: 'TDP' },
      trainingEnergy: { joules: 92.1, label: 'modelled:tdp-load', source: 'TDP' },
      opCountEnergy: { joules: 0.8, label: 'modelled:op-count', source: 'Horowitz 45 nm' },
    });
    expect(view.after.sizeGzipBytes).toBeUndefined();
    expect(view.after.latencyBatch32Ms).toBeUndefined();
    expect(view.after.inferenceEnergy).toEqual({ joules: 0.83, label: 'modelled:tdp-load', source: 'TDP' });
    // Unavailable figures keep their reason and have no joules: never shown as 0.
    expect(view.after.trainingEnergy).toEqual({ label: 'unavailable', source: 'TDP', reason: 'resumed' });
    expect(view.after.opCountEnergy).toEqual({
      label: 'unavailable',
      source: 'op-count',
      reason: 'no MAC counts',
    });
    expect(view.notes).toEqual([
      'latency is measured on wasm',
      'the pruned model is genuinely smaller',
      'after: int8 hardware',
    ]);
    expect(view.evaluation).toEqual({ split: 'test', samples: 2000 });
  });

  it('builds per-layer columns from the rows, pairing before/after keys', () => {
    const view = parseCompressionResult(result);
    expect(view.layerColumns).toEqual([
      { key: 'channels', label: 'channels', paired: true },
      { key: 'params', label: 'parameters', paired: true },
      { key: 'sparsity', label: 'sparsity', paired: false },
    ]);
    expect(view.layers[1]).toEqual({
      name: '<b>dense</b>',
      className: 'Dense',
      values: {
        channelsBefore: undefined,
        channelsAfter: undefined,
        paramsBefore: 100,
        paramsAfter: 50,
        sparsity: undefined,
      },
    });
  });

  it('finds the comparison nested under `compression`; an unmeasured inference keeps its reason', () => {
    const nested = {
      runDir: '/runs/demo',
      compression: {
        before: { accuracy: 0.5 },
        after: { accuracy: 0.4 },
        energy: { measured: { inference: { status: 'unavailable', reason: 'energy.measure is off' } } },
      },
    };
    expect(isCompressionResult(nested)).toBe(true);
    const view = parseCompressionResult(nested);
    expect(view.runDir).toBe('/runs/demo');
    expect(view.before).toEqual({ accuracy: 0.5, inferenceEnergy: { reason: 'energy.measure is off' } });
    expect(view.after).toEqual({ accuracy: 0.4, inferenceEnergy: { reason: 'energy.measure is off' } });
    expect(view.layers).toEqual([]);
    expect(isCompressionResult({ accuracy: 0.9 })).toBe(false);
  });
});

describe('parseCompressionResult on 0 evaluation samples', () => {
  it('keeps no accuracy figure (the Results table shows n/a), and the split and count', () => {
    const view = parseCompressionResult({ ...result, evaluation: { split: 'validation', samples: 0 } });
    expect(view.evaluation).toEqual({ split: 'validation', samples: 0 });
    expect(view.before.accuracy).toBeUndefined();
    expect(view.after.accuracy).toBeUndefined();
    expect(view.before.params).toBe(61706);
  });
});
