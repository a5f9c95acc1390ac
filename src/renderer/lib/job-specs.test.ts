import { describe, expect, it } from 'vitest';
import { jobSpecSchema } from '../../shared/jobs';
import {
  compressSpec,
  DEFAULT_METHOD_CHOICE,
  evaluateSpec,
  planSpec,
  sensitivitySpec,
  trainSpec,
  withMethodDefaults,
} from './job-specs';

const data = { model: '/runs/train-1', data: '/data/fashion', limit: 1000 };

/** What the host does with a spec the UI sent without `out`. */
const hostParse = (spec: object) => jobSpecSchema.parse({ out: '/runs/assigned', ...spec });

describe('job specs', () => {
  it('structured pruning sends the MACs target and criterion, no quantization options', () => {
    const spec = compressSpec({ ...DEFAULT_METHOD_CHOICE, target: 0.35 }, data);
    expect(spec).toEqual({
      kind: 'compress',
      model: '/runs/train-1',
      data: '/data/fashion',
      method: 'structured',
      targetMacs: 0.35,
      criterion: 'l1',
      finetuneEpochs: 2,
      limit: 1000,
    });
    expect('out' in spec).toBe(false);
    expect(hostParse(spec)).toMatchObject({ kind: 'compress', targetMacs: 0.35, out: '/runs/assigned' });
    // A size target removes parameters instead.
    const bySize = compressSpec({ ...DEFAULT_METHOD_CHOICE, target: 0.4, targetBy: 'params' }, data);
    expect(bySize).toMatchObject({ targetParams: 0.4 });
    expect(bySize).not.toHaveProperty('targetMacs');
  });

  it('each method sends only its own options, with its defaults', () => {
    const magnitude = compressSpec(withMethodDefaults(DEFAULT_METHOD_CHOICE, 'magnitude'), data);
    expect(magnitude).toMatchObject({ method: 'magnitude', sparsity: 0.8, finetuneEpochs: 2 });
    expect(magnitude).not.toHaveProperty('targetMacs');
    expect(magnitude).not.toHaveProperty('dtype');

    const quantize = compressSpec(withMethodDefaults(DEFAULT_METHOD_CHOICE, 'quantize'), {
      ...data,
      limit: null,
    });
    expect(quantize).toEqual({
      kind: 'compress',
      model: '/runs/train-1',
      data: '/data/fashion',
      method: 'quantize',
      dtype: 'uint8',
      finetuneEpochs: 0,
    });

    const qat = compressSpec(
      { ...withMethodDefaults(DEFAULT_METHOD_CHOICE, 'qat'), granularity: 'tensor' },
      data,
    );
    expect(qat).toMatchObject({ method: 'qat', dtype: 'uint8', granularity: 'tensor', finetuneEpochs: 2 });

    const both = compressSpec(withMethodDefaults(DEFAULT_METHOD_CHOICE, 'structured+quantize'), data);
    expect(both).toMatchObject({ targetMacs: 0.5, dtype: 'uint8', criterion: 'l1' });
    for (const spec of [magnitude, quantize, qat, both]) expect(() => hostParse(spec)).not.toThrow();
  });

  it('builds train, evaluate, plan and sensitivity specs the schema accepts', () => {
    const train = trainSpec({ data: '/d', arch: 'lenet', epochs: 1, limit: 2000.7 });
    expect(train).toEqual({ kind: 'train', data: '/d', arch: 'lenet', training: { epochs: 1 }, limit: 2000 });
    expect(hostParse(train)).toMatchObject({ training: { epochs: 1, optimizer: 'adam' } });
    expect(jobSpecSchema.parse(evaluateSpec(data))).toMatchObject({ kind: 'evaluate', limit: 1000 });
    expect(jobSpecSchema.parse(planSpec('/m', 'fpgm'))).toMatchObject({
      kind: 'plan',
      by: 'macs',
      criterion: 'fpgm',
    });
    const sensitivity = sensitivitySpec({ ...data, limit: 300 }, 'l2');
    expect(sensitivity).toMatchObject({ samples: 300, limit: 300, criterion: 'l2' });
    expect(sensitivitySpec({ ...data, limit: null }, 'l1').samples).toBe(500);
    expect(() => hostParse(sensitivity)).not.toThrow();
  });
});
