import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpochMetrics } from '../../../shared/jobs';
import { collectReport } from './collect';
import { renderReportHtml } from './html';
import { CPU_SOURCE, writeCompressFixture } from './test-fixtures';
import { NO_DENSE_RUN, trainingSavingText } from './training-section';

const NOW = new Date('2026-03-01T12:00:00Z');
const LABEL = 'modelled:tdp-load' as const;

/** Epochs whose meter reads the running sum of `perEpoch` joules. */
function history(perEpoch: number[], valAccuracy: number[]): EpochMetrics[] {
  let total = 0;
  return perEpoch.map((joules, i) => {
    total += joules;
    return {
      epoch: i + 1,
      loss: 1,
      accuracy: 0.5,
      valAccuracy: valAccuracy[i]!,
      learningRate: 0.001,
      seconds: 10,
      samplesPerSecond: 100,
      energy: { watts: 8, total: { joules: total, label: LABEL, source: CPU_SOURCE } },
    };
  });
}

const PRUNED = {
  history: history([30, 31, 12, 11], [0.6, 0.7, 0.78, 0.84]),
  accuracy: 0.85,
  trainingEnergy: { joules: 84, label: LABEL, source: CPU_SOURCE },
  wallSeconds: 25,
  pruneWhileTraining: {
    prunedAtEpoch: 2,
    reason: 'fixed-epoch',
    detail: '--prune-at-epoch 2',
    maskDistances: [null, 0.05],
    macsBefore: 1_200_000,
    macsAfter: 480_000,
  },
};
const DENSE = {
  source: 'trained in this job',
  accuracy: 0.86,
  evaluatedOn: 'test',
  wallSeconds: 40,
  cpuSeconds: 70,
  trainingEnergy: { joules: 122, label: LABEL, source: CPU_SOURCE },
  epochs: 4,
  macs: 1_200_000,
  params: 5000,
  history: history([30, 31, 30, 31], [0.6, 0.71, 0.8, 0.85]),
};
const SAVINGS = {
  wallTime: { ratio: 40 / 25, label: 'measured:wall-clock' },
  cpuTime: { ratio: 70 / 50, label: 'measured:process-cpu-time' },
  energy: { ratio: 122 / 84, label: LABEL, source: CPU_SOURCE },
};

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-training-section-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function prunedRun(name: string, extra: Record<string, unknown>): Promise<string> {
  const { trainDir } = await writeCompressFixture(path.join(root, name));
  const file = path.join(trainDir, 'training.json');
  const training = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(file, JSON.stringify({ ...training, ...PRUNED, epochs: 4, ...extra }));
  return trainDir;
}

describe('training energy section (pruned while training)', () => {
  it('gives energy per epoch before and after the prune, both cumulative curves and both accuracies', async () => {
    const doc = await collectReport(await prunedRun('with-dense', { dense: DENSE, savings: SAVINGS }), {
      now: NOW,
    });
    const section = doc.trainingEnergy!;
    expect(section.prunedAtEpoch).toBe(2);
    expect(section.epochEnergy).toEqual([
      { epoch: 1, joules: 30, afterPrune: false },
      { epoch: 2, joules: 31, afterPrune: false },
      { epoch: 3, joules: 12, afterPrune: true },
      { epoch: 4, joules: 11, afterPrune: true },
    ]);
    expect([section.meanBefore, section.meanAfter]).toEqual([30.5, 11.5]);
    expect(section.cumulative).toEqual({
      pruned: [
        [1, 30],
        [2, 61],
        [3, 73],
        [4, 84],
      ],
      dense: [
        [1, 30],
        [2, 61],
        [3, 91],
        [4, 122],
      ],
    });
    expect(section.accuracy.metric).toBe('validation');
    expect(section.accuracy.pruned.map(([, y]) => Math.round(y * 100) / 100)).toEqual([60, 70, 78, 84]);
    expect(section.accuracy.dense!.map(([, y]) => Math.round(y * 100) / 100)).toEqual([60, 71, 80, 85]);
    expect(section.savings).toEqual({ energy: 122 / 84, wallTime: 1.6 });
    expect(trainingSavingText(section)).toBe(
      '1.45× less training energy and 1.60× less wall time than the dense run over the whole run; accuracy 85.00% vs 86.00% (−1.00 pts). ' +
        'structure found at epoch 2 (--prune-at-epoch 2); network shrank from 1,200,000 to 480,000 MACs.',
    );
    const html = renderReportHtml(doc);
    expect(html).toContain('<section id="training-energy">');
    expect(html).toContain(
      'Mean energy per epoch: 30.5 J before the prune, 11.5 J after (modelled:tdp-load).',
    );
    expect(html).toContain('Cumulative training energy');
    expect(html.match(/>pruned</g)).toHaveLength(3);
  });

  it('says so where no dense reference exists', async () => {
    const doc = await collectReport(await prunedRun('no-dense', {}), { now: NOW });
    const section = doc.trainingEnergy!;
    expect(section.noDense).toBe(NO_DENSE_RUN);
    expect(section.dense).toBeNull();
    expect(section.cumulative.dense).toBeNull();
    expect(trainingSavingText(section)).toBe(
      `structure found at epoch 2 (--prune-at-epoch 2); network shrank from 1,200,000 to 480,000 MACs. ${NO_DENSE_RUN}.`,
    );
    expect(renderReportHtml(doc)).toContain(
      'no dense run to compare with: start with &#39;compare with a dense run&#39; (--compare-dense) to measure the saving.',
    );
  });

  it('is absent for an ordinary train run', async () => {
    const { trainDir } = await writeCompressFixture(path.join(root, 'plain'));
    const doc = await collectReport(trainDir, { now: NOW });
    expect(doc.trainingEnergy).toBeUndefined();
    expect(renderReportHtml(doc)).not.toContain('training-energy');
  });
});
