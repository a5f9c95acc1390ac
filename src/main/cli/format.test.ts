import { describe, expect, it } from 'vitest';
import { trainSpecSchema } from '../../shared/jobs';
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
