import { describe, expect, it } from 'vitest';
import { jobSpecSchema } from '../../shared/jobs';
import {
  compressSpec,
  DEFAULT_METHOD_CHOICE,
  evaluateSpec,
  exploreSpec,
  planKey,
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

  it('sends the advanced options only where they differ from the defaults', () => {
    const advanced = compressSpec(
      {
        ...DEFAULT_METHOD_CHOICE,
        target: 0.6,
        scope: 'global',
        roundTo: 8,
        ignoredLayers: ['conv1'],
        steps: 3,
        learningRate: 0.0005,
        batchSize: 32,
      },
      data,
    );
    expect(advanced).toEqual({
      kind: 'compress',
      model: '/runs/train-1',
      data: '/data/fashion',
      method: 'structured',
      targetMacs: 0.6,
      criterion: 'l1',
      scope: 'global',
      roundTo: 8,
      ignoredLayers: ['conv1'],
      steps: 3,
      finetuneEpochs: 2,
      training: { learningRate: 0.0005 },
      batchSize: 32,
      limit: 1000,
    });
    expect(hostParse(advanced)).toMatchObject({
      steps: 3,
      batchSize: 32,
      training: { learningRate: 0.0005 },
    });
    // Quantization ignores the pruning options.
    const quantize = compressSpec(
      { ...withMethodDefaults(DEFAULT_METHOD_CHOICE, 'quantize'), roundTo: 8 },
      data,
    );
    expect(quantize).not.toHaveProperty('roundTo');
    expect(quantize).not.toHaveProperty('training');
  });

  it('automatic mode sends the budget and the sensitivity run, a MACs target and no steps', () => {
    const choice = {
      ...DEFAULT_METHOD_CHOICE,
      automatic: true,
      accuracyBudget: 1.5,
      targetBy: 'params' as const,
      target: 0.4,
      steps: 3,
    };
    const spec = compressSpec(choice, { ...data, sensitivityRun: '/runs/sensitivity-1' });
    expect(spec).toMatchObject({
      targetMacs: 0.4,
      accuracyBudget: 1.5,
      sensitivityRun: '/runs/sensitivity-1',
    });
    expect(spec).not.toHaveProperty('targetParams');
    expect(spec).not.toHaveProperty('steps');
    expect(() => hostParse(spec)).not.toThrow();
    // Without a sensitivity run there is no automatic mode.
    expect(compressSpec(choice, data)).not.toHaveProperty('accuracyBudget');
  });

  it('plans with the same scope, rounding and ignored layers, and re-plans when they change', () => {
    const choice = { ...DEFAULT_METHOD_CHOICE, roundTo: 8, ignoredLayers: ['conv2', 'conv1'] };
    expect(planSpec('/m', 'taylor', 'params', choice)).toEqual({
      kind: 'plan',
      model: '/m',
      by: 'params',
      criterion: 'l1',
      roundTo: 8,
      ignoredLayers: ['conv2', 'conv1'],
    });
    expect(planKey('/m', choice)).toBe(planKey('/m', { ...choice, ignoredLayers: ['conv1', 'conv2'] }));
    expect(planKey('/m', choice)).not.toBe(planKey('/m', { ...choice, scope: 'global' }));
    // The fine-tuning options do not change the plan.
    expect(planKey('/m', choice)).toBe(planKey('/m', { ...choice, learningRate: 0.01, steps: 4 }));
  });

  it('sends the input scaling chosen in the Model step to evaluate and compress', () => {
    const scaled = { ...data, inputScaling: 'symmetric' as const };
    expect(evaluateSpec(scaled)).toEqual({
      kind: 'evaluate',
      model: '/runs/train-1',
      data: '/data/fashion',
      inputScaling: 'symmetric',
      limit: 1000,
    });
    expect(compressSpec(DEFAULT_METHOD_CHOICE, scaled)).toMatchObject({ inputScaling: 'symmetric' });
    expect(compressSpec(DEFAULT_METHOD_CHOICE, { ...data, inputScaling: null })).not.toHaveProperty(
      'inputScaling',
    );
    expect(() =>
      hostParse(compressSpec(DEFAULT_METHOD_CHOICE, { ...scaled, inputScaling: 'raw' })),
    ).not.toThrow();
    // The sensitivity analysis sees the pixels the same way.
    expect(hostParse(sensitivitySpec(scaled, 'l1'))).toMatchObject({
      kind: 'sensitivity',
      inputScaling: 'symmetric',
    });
  });

  it('explore sends the targets in order with the pruning shape, fine-tuning options only when it fine-tunes', () => {
    const choice = {
      ...DEFAULT_METHOD_CHOICE,
      targetBy: 'params' as const,
      criterion: 'fpgm' as const,
      roundTo: 4,
      learningRate: 0.0005,
      batchSize: 32,
      automatic: true,
      steps: 3,
    };
    const targets = [0.6, 0.2];
    expect(exploreSpec(choice, { ...data, inputScaling: 'raw' }, { targets, finetuneEpochs: 0 })).toEqual({
      kind: 'explore',
      model: '/runs/train-1',
      data: '/data/fashion',
      by: 'params',
      targets: [0.2, 0.6],
      criterion: 'fpgm',
      roundTo: 4,
      finetuneEpochs: 0,
      batchSize: 32,
      inputScaling: 'raw',
      limit: 1000,
    });
    expect(targets).toEqual([0.6, 0.2]);
    const tuned = exploreSpec(choice, data, { targets, finetuneEpochs: 2 });
    expect(tuned.training).toEqual({ learningRate: 0.0005 });
    expect(hostParse(tuned)).toMatchObject({ kind: 'explore', finetuneEpochs: 2, samples: 1000 });
    expect(exploreSpec(DEFAULT_METHOD_CHOICE, data, { targets: [0.4], finetuneEpochs: 1 })).toEqual({
      kind: 'explore',
      model: '/runs/train-1',
      data: '/data/fashion',
      by: 'macs',
      targets: [0.4],
      criterion: 'l1',
      finetuneEpochs: 1,
      limit: 1000,
    });
  });
});
