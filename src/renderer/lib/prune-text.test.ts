import { describe, expect, it } from 'vitest';
import type { TrainResult } from '../../shared/job-results';
import { trainSpecSchema } from '../../shared/jobs';
import { trainResultFixture } from '../../shared/testing/result-fixtures';
import { trainSpec } from './job-specs';
import { NO_DENSE_RUN, prunedText, savingText } from './prune-text';
import { applyJobEvent, emptyJobModel } from './state/job-model';

const PRUNE = {
  epoch: 3,
  step: 1,
  steps: 1,
  maskDistance: 0.0425,
  detail: 'masks',
  macsBefore: 1_234_567,
  macsAfter: 600_000,
};

describe('prune while training in the app', () => {
  it('says when the structure was found and how far the network shrank', () => {
    expect(prunedText(PRUNE)).toBe(
      'structure found at epoch 3 (mask distance 0.043); network shrank from 1,234,567 to 600,000 MACs',
    );
    expect(prunedText({ ...PRUNE, epoch: 1, maskDistance: null, step: 2, steps: 3 })).toBe(
      'structure found at epoch 1 (no mask distance yet) (step 2 of 3); network shrank from 1,234,567 to 600,000 MACs',
    );
  });

  it('leads with the whole-run saving against the dense run, or says there is none', () => {
    const savings: NonNullable<TrainResult['savings']> = {
      energy: { ratio: 1.6543, label: 'modelled:tdp-load', source: 'CPU model' },
      wallTime: { ratio: 1.7, label: 'measured:wall-clock' },
      cpuTime: { ratio: 1.6, label: 'measured:process-cpu-time' },
    };
    expect(savingText(trainResultFixture({ savings }))).toBe(
      '1.65× less training energy and 1.70× less wall time than the dense run, over the whole run',
    );
    expect(
      savingText(trainResultFixture({ savings: { ...savings, energy: { ...savings.energy, ratio: null } } })),
    ).toBe(
      'training energy saving unavailable and 1.70× less wall time than the dense run, over the whole run',
    );
    expect(savingText(trainResultFixture())).toBe(NO_DENSE_RUN);
    expect(savingText(null)).toBe(NO_DENSE_RUN);
  });

  it('keeps every pruned event on the job model', () => {
    const model = emptyJobModel('j1', 'train');
    expect(applyJobEvent(model, { type: 'pruned', ...PRUNE, seq: 5, time: 1 })).toBe(true);
    expect(applyJobEvent(model, { type: 'pruned', ...PRUNE, seq: 5, time: 1 })).toBe(false);
    expect(model.prunes).toEqual([PRUNE]);
  });

  it('builds the prune-while-training train spec the schema accepts', () => {
    const spec = trainSpec({
      data: '/d',
      arch: 'vgg-small',
      epochs: 2,
      prune: { targetMacs: 0.5, compareDense: true, pruneAtEpoch: 1 },
    });
    expect(spec.pruneWhileTraining).toEqual({ targetMacs: 0.5, compareDense: true, pruneAtEpoch: 1 });
    expect(trainSpecSchema.parse({ ...spec, out: '/runs/x' }).pruneWhileTraining).toEqual({
      targetMacs: 0.5,
      compareDense: true,
      pruneAtEpoch: 1,
      bnL1: 1e-4,
      maskThreshold: 0.1,
      pruneSteps: 1,
      roundTo: 1,
    });
    expect(trainSpec({ data: '/d', arch: 'lenet', epochs: 1, prune: null })).not.toHaveProperty(
      'pruneWhileTraining',
    );
  });
});
