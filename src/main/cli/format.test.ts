import { describe, expect, it } from 'vitest';
import type { CompressResult, ExportModelResult } from '../../shared/job-results';
import {
  compressResultFixture,
  evaluateResultFixture,
  evaluationFixture,
  exportModelResultFixture,
  infoResultFixture,
  trainResultFixture,
} from '../../shared/testing/result-fixtures';
import { formatResult, table } from './format';

/** An int8 ONNX export's result, as the export-model job writes it. */
function onnxExport(folded: number, fromQat: number, samples: number, calibrated = 6): ExportModelResult {
  return {
    ...exportModelResultFixture([{ path: '/m.onnx', bytes: 2048 }], 'onnx'),
    onnx: {
      opset: 13,
      layout: 'nchw',
      inputShape: [1, 1, 28, 28],
      foldedBatchNorms: folded,
      verification: { samples: 16, inputs: 'dataset', maxAbsDiffOutput: 1.2e-7, maxAbsDiffLogits: 5.2e-6 },
      int8: {
        runtime: 'deployed on ONNX Runtime (CPU)',
        calibration: { samples, method: 'minmax' },
        activationRanges: { fromQat, calibrated },
        quantizedNodes: 8,
        quantizedActivations: 6,
        accuracy: { split: 'test', samples: 2000, float32: 0.8835, int8: 0.884, agreement: 0.99 },
        latencyMs: { float32: { batch1: 0.34, batch32: 8.89 }, int8: { batch1: 0.14, batch32: 3.2 } },
        speedup: { batch1: 2.43, batch32: 2.78 },
        sizeBytes: { float32: 250_000, int8: 70_000 },
      },
    },
  };
}

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
    const text = formatResult(
      trainResultFixture({
        accuracy: 0.85,
        wallSeconds: 100,
        pruneWhileTraining: {
          prunedAtEpoch: 2,
          reason: 'masks-stable',
          detail: 'mask distance under 0.1 for 1 epoch (0.054)',
          maskDistances: [null, 0.054],
          target: { metric: 'macs', fraction: 0.5 },
          pruneSteps: 1,
          steps: [],
          macsBefore: 1000,
          macsAfter: 480,
          paramsBefore: 2000,
          paramsAfter: 900,
        },
        dense: {
          source: 'trained in this job',
          accuracy: 0.86,
          evaluatedOn: 'test',
          wallSeconds: 150,
          cpuSeconds: 160,
          trainingEnergy: { joules: null, label: 'unavailable', source: 'CPU model' },
          epochs: 3,
          macs: 1000,
          params: 2000,
        },
        savings: {
          wallTime: { ratio: 1.5, label: 'measured:wall-clock' },
          cpuTime: { ratio: 1.25, label: 'measured:process-cpu-time' },
          energy: {
            ratio: null,
            label: 'unavailable',
            source: 'CPU model',
            reason: 'no training energy was measured for both runs',
          },
        },
      }),
    );
    expect(text.split('\n').slice(0, 3)).toEqual([
      'accuracy 85.00%',
      'parameters 61,706 · MACs 416,520 · size 244.6 KiB',
      'training 4,200 samples/s on wasm, 2 threads',
    ]);
    expect(text.split('\n').slice(3, 6)).toEqual([
      'pruned after epoch 2 (mask distance under 0.1 for 1 epoch (0.054)): MACs 1,000 → 480, parameters 2,000 → 900',
      'dense run: accuracy 86.00%, 150.0 s; this run 100.0 s',
      'savings: wall time 1.50×, CPU time 1.25×; training energy — (unavailable: no training energy was measured for both runs)',
    ]);
  });
});

describe('formatResult of an ONNX export', () => {
  it('prints the check against tfjs and, for int8, accuracy and latency against float32', () => {
    const text = formatResult(onnxExport(6, 0, 256));
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

describe('formatResult of an int8 ONNX export of a QAT run', () => {
  it('says which activation ranges QAT learned and which were calibrated', () => {
    const line = (fromQat: number, calibrated: number, samples: number): string | undefined =>
      formatResult(onnxExport(1, fromQat, samples, calibrated)).split('\n')[4];
    expect(line(6, 0, 0)).toBe(
      'int8 (deployed on ONNX Runtime (CPU)): activation ranges learned in QAT for 6 tensors',
    );
    expect(line(5, 1, 256)).toBe(
      'int8 (deployed on ONNX Runtime (CPU)): activation ranges learned in QAT for 5 tensors, 1 calibrated on 256 samples (minmax)',
    );
    expect(line(0, 6, 256)).toBe('int8 (deployed on ONNX Runtime (CPU)): calibrated on 256 samples (minmax)');
  });
});

describe('formatResult of a compress run', () => {
  const side = (accuracy: number): CompressResult['before'] => ({
    accuracy,
    params: 100,
    macs: 200,
    sizeBytes: 400,
    sizeGzipBytes: 300,
    latencyMs: { batch1: 0.4, batch32: 4 },
    weightDtype: 'float32',
  });
  const compress = (overrides: Partial<CompressResult>): CompressResult =>
    compressResultFixture({ before: side(0.9), after: side(0.9), ...overrides });

  it('signs the accuracy change and says which split and how many samples', () => {
    const text = formatResult(
      compress({ evaluation: { split: 'test', samples: 10000 }, before: side(0.855), after: side(0.843) }),
    );
    expect(text.split('\n')[1]!.split(/\s+/)).toEqual(['accuracy', '85.50%', '84.30%', '−1.20', 'pts']);
    expect(text).toContain('accuracy on 10,000 test samples\n');
    const better = formatResult(compress({ before: side(0.9), after: side(0.904) }));
    expect(better.split('\n')[1]!.split(/\s+/)).toEqual(['accuracy', '90.00%', '90.40%', '+0.40', 'pts']);
  });

  it('shows n/a, not 0.00%, for an accuracy on 0 samples', () => {
    const text = formatResult(
      compress({ evaluation: { split: 'validation', samples: 0 }, before: side(0), after: side(0) }),
    );
    expect(text.split('\n')[1]!.split(/\s+/)).toEqual(['accuracy', 'n/a', 'n/a', 'n/a']);
    expect(text).toContain('accuracy on 0 validation samples: none, so there is no accuracy to compare');
  });
  it('adds the ONNX Runtime rows where the job measured them', () => {
    const deployed = (accuracy: number, format: 'float32' | 'int8', batch32: number) => ({
      format,
      accuracy,
      latencyMs: { batch1: 0.05, batch32 },
      latencySpreadMs: {
        batch1: [0.04, 0.06] as [number, number],
        batch32: [batch32, batch32] as [number, number],
      },
      sizeBytes: 1000,
    });
    const text = formatResult(
      compress({
        onnxRuntime: {
          runtime: 'deployed on ONNX Runtime (CPU)',
          evaluation: { split: 'test', samples: 2000 },
          before: deployed(0.866, 'float32', 8.89),
          after: deployed(0.865, 'int8', 3.2),
          speedup: { batch1: null, batch32: 2.78 },
          verdict: { batch1: 'no measurable difference', batch32: '2.78× faster' },
        },
      }),
    );
    // The table's last three rows, then the samples line and the run folder.
    const lines = text.split('\n').slice(0, -3);
    expect(lines.at(-3)!.split(/\s{2,}/)).toEqual([
      'ONNX Runtime float32→int8, accuracy',
      '86.60%',
      '86.50%',
      '−0.10 pts',
    ]);
    expect(lines.at(-2)!.split(/\s{2,}/)).toEqual([
      'ONNX Runtime float32→int8, batch 1',
      '0.05 ms',
      '0.05 ms',
      'no measurable difference',
    ]);
    expect(lines.at(-1)!.split(/\s{2,}/)).toEqual([
      'ONNX Runtime float32→int8, batch 32',
      '8.89 ms',
      '3.20 ms',
      '2.78× faster',
    ]);
  });
});

describe('formatResult of info', () => {
  it('says "unavailable" once for an unavailable energy source', () => {
    const text = formatResult(
      infoResultFixture({
        energySources: [
          {
            id: 'rapl',
            name: 'Linux RAPL',
            kind: 'measured',
            label: 'unavailable',
            status: 'unavailable',
            reason: 'no powercap',
          },
        ],
      }),
    );
    expect(text).toContain('rapl  unavailable  no powercap');
    expect(text).not.toContain('unavailable unavailable');
  });
});

describe('formatResult of an evaluation', () => {
  const classNames = Array.from({ length: 10 }, (_, i) => `class ${i}`);
  const evaluation = (accuracy: number) => ({
    ...evaluateResultFixture(accuracy),
    ...evaluationFixture(accuracy),
    classNames,
  });

  it('says how many samples, and flags a chance-level accuracy', () => {
    expect(formatResult(evaluation(0.091)).split('\n')[0]).toBe(
      'accuracy 9.10% on 2,000 samples: chance level for 10 classes (10.00%); check --input-scaling and the class order',
    );
    expect(formatResult(evaluation(0.855)).split('\n')[0]).toBe('accuracy 85.50% on 2,000 samples');
  });
});
