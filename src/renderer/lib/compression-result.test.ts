import { describe, expect, it } from 'vitest';
import type { CompressResult } from '../../shared/job-results';
import {
  compressResultFixture,
  measuredEnergyFixture,
  statistic,
  trainResultFixture,
} from '../../shared/testing/result-fixtures';
import { compressionOf, parseCompressionResult, storedCompressionOf } from './compression-result';

const measured = measuredEnergyFixture();
const result: CompressResult = compressResultFixture({
  energy: {
    before: { joules: 0.8, label: 'modelled:op-count', source: 'Horowitz 45 nm' },
    after: { joules: null, label: 'unavailable', source: 'op-count', reason: 'no MAC counts' },
    assumptions: ['after: int8 hardware'],
    measured: {
      ...measured,
      training: {
        ...measured.training,
        compressed: {
          ...measured.training.compressed,
          perEpoch: { ...statistic([]), label: 'unavailable', reason: 'resumed' },
        },
      },
    },
  },
  layers: [
    {
      name: 'conv2d_1',
      className: 'Conv2D',
      outChannelsBefore: 6,
      outChannelsAfter: 3,
      paramsBefore: 156,
      paramsAfter: 78,
      macsBefore: 1000,
      macsAfter: 500,
      sparsity: 0,
    },
    {
      name: '<b>dense</b>',
      className: 'Dense',
      outChannelsBefore: 10,
      outChannelsAfter: 10,
      paramsBefore: 100,
      paramsAfter: 50,
      macsBefore: 100,
      macsAfter: 50,
    },
  ],
  notes: ['latency is measured on wasm'],
  realised: ['the pruned model is genuinely smaller'],
});

describe('parseCompressionResult', () => {
  it('reads the before and after figures with their energy, each with its label and source', () => {
    const view = parseCompressionResult(result);
    expect(view.method).toBe('structured+quantize');
    expect(view.backend).toBe('wasm');
    expect(view.modelPath).toBe('/runs/compress-1/model');
    expect(view.before).toEqual({
      accuracy: 0.866,
      params: 61_706,
      macs: 416_520,
      sizeBytes: 250_470,
      sizeGzipBytes: 229_581,
      latencyBatch1Ms: 0.14,
      latencyBatch32Ms: 1.28,
      weightDtype: 'float32',
      inferenceEnergy: { joules: 4.1, label: 'modelled:tdp-load', source: 'CPU model' },
      trainingEnergy: { joules: 121, label: 'modelled:tdp-load', source: 'CPU model' },
      opCountEnergy: { joules: 0.8, label: 'modelled:op-count', source: 'Horowitz 45 nm' },
    });
    expect(view.after.inferenceEnergy).toEqual({
      joules: 2.1,
      label: 'modelled:tdp-load',
      source: 'CPU model',
    });
    // Unavailable figures keep their reason and have no joules: never shown as 0.
    expect(view.after.trainingEnergy).toEqual({
      label: 'unavailable',
      source: 'CPU model',
      reason: 'resumed',
    });
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
      { key: 'outChannels', label: 'out channels', paired: true },
      { key: 'params', label: 'parameters', paired: true },
      { key: 'macs', label: 'MACs', paired: true },
      { key: 'sparsity', label: 'sparsity', paired: false },
    ]);
    expect(view.layers[1]).toEqual({
      name: '<b>dense</b>',
      className: 'Dense',
      values: {
        outChannelsBefore: 10,
        outChannelsAfter: 10,
        paramsBefore: 100,
        paramsAfter: 50,
        macsBefore: 100,
        macsAfter: 50,
        sparsity: undefined,
      },
    });
  });

  it('keeps the reason of an unmeasured inference, and no measured figures without the measured block', () => {
    const off = parseCompressionResult({
      ...result,
      energy: {
        ...result.energy,
        measured: { ...measured, inference: { status: 'unavailable', reason: 'energy.measure is off' } },
      },
    });
    expect(off.before.inferenceEnergy).toEqual({ reason: 'energy.measure is off' });
    const none = parseCompressionResult(compressResultFixture());
    expect(none.before.inferenceEnergy).toBeUndefined();
    expect(none.before.trainingEnergy).toBeUndefined();
  });
});

describe('compressionOf', () => {
  it("finds a demo's comparison under `compression`, and none in a train result", () => {
    const compression = compressResultFixture({ runDir: '/runs/demo/compressed' });
    const demo = {
      kind: 'demo' as const,
      backend: 'wasm',
      device: 'SIMD',
      runDir: '/runs/demo',
      data: '/samples/fm',
      accuracy: compression.accuracy,
      params: compression.params,
      macs: compression.macs,
      sizeBytes: compression.sizeBytes,
      sizeGzipBytes: compression.sizeGzipBytes,
      modelPath: compression.modelPath,
      before: compression.before,
      after: compression.after,
      baseline: trainResultFixture(),
      compression,
      report: '/runs/demo/report/report.html',
      reportFiles: { html: '/runs/demo/report/report.html' },
    };
    expect(compressionOf(demo)?.runDir).toBe('/runs/demo/compressed');
    expect(compressionOf(trainResultFixture())).toBeUndefined();
  });

  it('reads a stored result through the schema; an older shape is no comparison', () => {
    expect(storedCompressionOf(JSON.parse(JSON.stringify(result)))?.after.params).toBe(24_507);
    expect(storedCompressionOf({ before: { accuracy: 0.5 }, after: { accuracy: 0.4 } })).toBeUndefined();
  });
});

describe('parseCompressionResult on 0 evaluation samples', () => {
  it('keeps no accuracy figure (the Results table shows n/a), and the split and count', () => {
    const view = parseCompressionResult({ ...result, evaluation: { split: 'validation', samples: 0 } });
    expect(view.evaluation).toEqual({ split: 'validation', samples: 0 });
    expect(view.before.accuracy).toBeUndefined();
    expect(view.after.accuracy).toBeUndefined();
    expect(view.before.params).toBe(61_706);
  });
});
