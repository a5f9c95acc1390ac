import { describe, expect, it } from 'vitest';
import { exportModelSpecSchema, trainSpecSchema } from '../../shared/jobs';
import { formatResult, table } from './format';

describe('table', () => {
  it('right-aligns numeric columns after a left-aligned first column', () => {
    expect(
      table([
        ['', 'before', 'after'],
        ['parameters', '61,706', '24,507'],
        ['MACs', '416,520', '1'],
      ]),
    ).toBe(
      ['             before   after', 'parameters   61,706  24,507', 'MACs        416,520       1', ''].join(
        '\n',
      ),
    );
  });

  it('left-aligns a text table and does not pad its last column', () => {
    expect(
      table(
        [
          ['tensorflow', 'unavailable', 'not installed'],
          ['wasm', 'used', 'WebAssembly SIMD, 1 thread'],
        ],
        'text',
      ),
    ).toBe(
      [
        'tensorflow  unavailable  not installed',
        'wasm        used         WebAssembly SIMD, 1 thread',
        '',
      ].join('\n'),
    );
  });
});

describe('formatResult of a train run pruned while training', () => {
  it('says when and why it pruned and what the dense run cost', () => {
    const spec = trainSpecSchema.parse({ kind: 'train', data: '/d', arch: 'vgg-small', out: '/r' });
    const text = formatResult(spec, {
      accuracy: 0.85,
      wallSeconds: 100,
      pruneWhileTraining: {
        prunedAtEpoch: 2,
        detail: 'mask distance under 0.1 for 1 epoch (0.054)',
        macsBefore: 1000,
        macsAfter: 480,
        paramsBefore: 2000,
        paramsAfter: 900,
      },
      dense: { accuracy: 0.86, wallSeconds: 150 },
      savings: {
        wallTime: { ratio: 1.5, label: 'measured:wall-clock' },
        cpuTime: { ratio: 1.25, label: 'measured:process-cpu-time' },
        energy: {
          ratio: null,
          label: 'unavailable',
          reason: 'no training energy was measured for both runs',
        },
      },
    });
    expect(text.split('\n').slice(1, 4)).toEqual([
      'pruned after epoch 2 (mask distance under 0.1 for 1 epoch (0.054)): MACs 1,000 → 480, parameters 2,000 → 900',
      'dense run: accuracy 86.00%, 150.0 s; this run 100.0 s',
      'savings: wall time 1.50×, CPU time 1.25×; training energy — (unavailable: no training energy was measured for both runs)',
    ]);
  });
});

describe('formatResult of an ONNX export', () => {
  it('prints the check against tfjs and, for int8, accuracy and latency against float32', () => {
    const spec = exportModelSpecSchema.parse({
      kind: 'export-model',
      model: '/m',
      format: 'onnx',
      to: '/m.onnx',
    });
    const text = formatResult(spec, {
      format: 'onnx',
      files: [{ path: '/m.onnx', bytes: 2048 }],
      onnx: {
        opset: 13,
        layout: 'nchw',
        foldedBatchNorms: 6,
        verification: { samples: 16, inputs: 'dataset', maxAbsDiffOutput: 1.2e-7, maxAbsDiffLogits: 5.2e-6 },
        int8: {
          runtime: 'deployed on ONNX Runtime (CPU)',
          calibration: { samples: 256, method: 'minmax' },
          accuracy: { split: 'test', samples: 2000, float32: 0.8835, int8: 0.884 },
          latencyMs: { float32: { batch1: 0.34, batch32: 8.89 }, int8: { batch1: 0.14, batch32: 3.2 } },
          speedup: { batch1: 2.43, batch32: 2.78 },
        },
      },
    });
    expect(text.split('\n').slice(0, 8)).toEqual([
      'onnx:',
      '  /m.onnx  2.0 KiB',
      'ONNX opset 13, input NCHW, 6 BatchNorms folded',
      'float32 vs TensorFlow.js (16 dataset samples): max |Δ| logits 5.2e-6, outputs 1.2e-7',
      'int8 (deployed on ONNX Runtime (CPU)): calibrated on 256 samples (minmax)',
      '  accuracy on 2000 test samples: float32 88.35%, int8 88.40%',
      '  latency batch 1: float32 0.34 ms, int8 0.14 ms (speedup 2.43×)',
      '  latency batch 32: float32 8.89 ms, int8 3.20 ms (speedup 2.78×)',
    ]);
  });
});
