import { describe, expect, it } from 'vitest';
import type { ExploreResult } from '../../shared/job-results';
import { formatExplore } from './explore-format';

const result: ExploreResult = {
  kind: 'explore',
  runDir: '/runs/explore',
  by: 'macs',
  criterion: 'l1',
  finetuneEpochs: 1,
  evaluation: { split: 'test', samples: 1000 },
  points: [
    {
      target: 0,
      params: 61_706,
      macs: 416_520,
      macsRemoved: 0,
      paramsRemoved: 0,
      accuracyPruned: 0.491,
      accuracyFineTuned: 0.491,
      latencyMs: 11.93,
      pareto: false,
    },
    {
      target: 0.2,
      params: 44_774,
      macs: 315_700,
      macsRemoved: 0.2421,
      paramsRemoved: 0.2744,
      accuracyPruned: 0.514,
      accuracyFineTuned: 0.711,
      latencyMs: 12.1,
      pareto: true,
    },
  ],
  notes: ['criterion l1: weights only'],
  files: { json: '/runs/explore/explore.json', csv: '/runs/explore/explore.csv' },
};

describe('formatExplore', () => {
  it('prints one row per point with the fine-tuned column, stars the Pareto points, and names the files', () => {
    expect(formatExplore(result).split('\n')).toEqual([
      'target    MACs cut     MACs  params  accuracy pruned  after 1 ep  latency b32  pareto',
      'original     0.00%  416,520  61,706           49.10%      49.10%     11.93 ms',
      '20%         24.21%  315,700  44,774           51.40%      71.10%     12.10 ms       *',
      'accuracy on 1,000 test samples; * no other point is both as accurate and smaller',
      'note: criterion l1: weights only',
      'files: /runs/explore/explore.json, /runs/explore/explore.csv',
      '',
    ]);
  });

  it('leaves the fine-tuned column out when nothing was fine-tuned', () => {
    const header = formatExplore({ ...result, finetuneEpochs: 0 }).split('\n')[0];
    expect(header).toBe('target    MACs cut     MACs  params  accuracy pruned  latency b32  pareto');
  });
});
