import { describe, expect, it } from 'vitest';
import type { ExplorePoint, ExploreResult } from '../../shared/job-results';
import { exploreResultSchema } from '../../shared/job-results';
import {
  accuracyAxis,
  chosenTarget,
  exploreChoicesOf,
  exploreView,
  paretoFront,
  pickedChoice,
  targetLabel,
  toggleTarget,
} from './explore';

const point = (
  target: number,
  macs: number,
  accuracyPruned: number,
  accuracyFineTuned: number,
  latencyMs: number,
  pareto: boolean,
): ExplorePoint => ({
  target,
  params: macs / 10,
  macs,
  macsRemoved: 1 - macs / 100_000,
  paramsRemoved: 1 - macs / 100_000 - 0.01 * target,
  accuracyPruned,
  accuracyFineTuned,
  latencyMs,
  pareto,
});

/**
 * 20% keeps the original's accuracy with fewer MACs and less time, so the original is off both fronts;
 * 40% is slower than 20% (latency is measured, not modelled), so it is on the MACs front only.
 */
const result: ExploreResult = exploreResultSchema.parse({
  kind: 'explore',
  runDir: '/runs/explore-1',
  by: 'macs',
  criterion: 'l1',
  finetuneEpochs: 1,
  evaluation: { split: 'test', samples: 1000 },
  points: [
    point(0, 100_000, 0.9, 0.9, 4, false),
    point(0.6, 40_000, 0.7, 0.8, 2, true),
    point(0.2, 80_000, 0.895, 0.9, 3.5, true),
    point(0.4, 60_000, 0.85, 0.88, 3.6, true),
  ],
  notes: ['80%: the plan cannot remove more'],
  files: { json: '/runs/explore-1/explore.json', csv: '/runs/explore-1/explore.csv' },
});

describe('exploreView', () => {
  const view = exploreView(result);

  it('gives one row per point, the original first, judged after fine-tuning', () => {
    expect(
      view.rows.map((r) => [r.label, r.macs, r.macsCut, r.accuracyPruned, r.accuracy, r.pareto]),
    ).toEqual([
      ['original', 100_000, 0, 0.9, 0.9, false],
      ['20%', 80_000, 0.19999999999999996, 0.895, 0.9, true],
      ['40%', 60_000, 0.4, 0.85, 0.88, true],
      ['60%', 40_000, 0.6, 0.7, 0.8, true],
    ]);
    expect(view.rows[0]!.original).toBe(true);
    expect(view.rows[3]!.paramsCut).toBeCloseTo(0.594, 12);
    expect(view.evaluation).toBe('accuracy on 1,000 test samples');
    expect(view.notes).toEqual(['80%: the plan cannot remove more']);
    expect(view.finetuneEpochs).toBe(1);
  });

  it('plots accuracy against MACs, the original apart, the engine’s Pareto points joined by a line', () => {
    expect(view.macs.original).toEqual({ x: 100_000, y: 0.9, target: 0 });
    expect(view.macs.points).toEqual([
      { x: 80_000, y: 0.9, target: 0.2 },
      { x: 60_000, y: 0.88, target: 0.4 },
      { x: 40_000, y: 0.8, target: 0.6 },
    ]);
    expect(view.macs.front.map((p) => p.target)).toEqual([0.6, 0.4, 0.2]);
    // The same points the engine flagged.
    expect(view.macs.front.map((p) => p.target).sort()).toEqual(
      view.rows.filter((r) => r.pareto).map((r) => r.target),
    );
  });

  it('plots accuracy against latency with that chart’s own front', () => {
    expect(view.latency.original).toEqual({ x: 4, y: 0.9, target: 0 });
    expect(view.latency.points.map((p) => p.x)).toEqual([3.5, 3.6, 2]);
    expect(view.latency.front).toEqual([
      { x: 2, y: 0.8, target: 0.6 },
      { x: 3.5, y: 0.9, target: 0.2 },
    ]);
  });

  it('judges by the pruned accuracy where nothing was fine-tuned', () => {
    const untuned = exploreView({
      ...result,
      finetuneEpochs: 0,
      points: result.points.map(({ accuracyFineTuned: _, ...p }) => p),
    });
    expect(untuned.rows.map((r) => [r.accuracy, r.accuracyFineTuned])).toEqual([
      [0.9, null],
      [0.895, null],
      [0.85, null],
      [0.7, null],
    ]);
    expect(untuned.accuracyAxis.min).toBe(0.65);
    expect(untuned.accuracyAxis.max).toBe(0.95);
  });
});

describe('accuracyAxis', () => {
  it('steps by 5% around points 80–90%, a step beyond each end', () => {
    const axis = accuracyAxis([0.9, 0.9, 0.88, 0.8]);
    expect([axis.min, axis.max, axis.stepSize]).toEqual([0.75, 0.95, 0.05]);
    expect(axis.label(0.75)).toBe('75%');
  });

  it('steps by 0.5% when every point has the same accuracy', () => {
    const axis = accuracyAxis([0.1, 0.1, 0.1]);
    expect([axis.min, axis.max, axis.stepSize]).toEqual([0.095, 0.105, 0.005]);
    expect(axis.label(0.095)).toBe('9.5%');
  });

  it('stays within 0–100%', () => {
    const axis = accuracyAxis([0, 1]);
    expect([axis.min, axis.max, axis.stepSize]).toEqual([0, 1, 0.5]);
    expect(axis.label(0.5)).toBe('50%');
  });
});

describe('picking a point', () => {
  const view = exploreView(result);

  it('sets the target and what it counts; the original is no target', () => {
    expect(pickedChoice(view, 0.4)).toEqual({ target: 0.4, targetBy: 'macs' });
    expect(pickedChoice({ by: 'params' }, 0.2)).toEqual({ target: 0.2, targetBy: 'params' });
    expect(pickedChoice(view, 0)).toBeNull();
  });

  it('finds the row the Method step’s target points at', () => {
    expect(chosenTarget(view, { target: 0.4, targetBy: 'macs' })).toBe(0.4);
    expect(chosenTarget(view, { target: 0.4000000000000001, targetBy: 'macs' })).toBe(0.4);
    expect(chosenTarget(view, { target: 0.4, targetBy: 'params' })).toBeNull();
    expect(chosenTarget(view, { target: 0.5, targetBy: 'macs' })).toBeNull();
  });
});

describe('targets', () => {
  it('toggles a chip, keeping the targets in order', () => {
    expect(toggleTarget([0.2, 0.4, 0.6, 0.8], 0.6)).toEqual([0.2, 0.4, 0.8]);
    expect(toggleTarget([0.4, 0.8], 0.1)).toEqual([0.1, 0.4, 0.8]);
    expect(toggleTarget([0.30000000000000004], 0.3)).toEqual([]);
  });

  it('shows the chips and epochs a watched or reopened run was asked for', () => {
    expect(exploreChoicesOf({ targets: [0.4, 0.2], finetuneEpochs: 2 })).toEqual({
      targets: [0.2, 0.4],
      epochs: 2,
    });
    // From a finished run's points (the original is no target); epochs beyond the field's range are capped.
    expect(exploreChoicesOf({ ...result, finetuneEpochs: 7 })).toEqual({
      targets: [0.2, 0.4, 0.6],
      epochs: 3,
    });
    // A target off the chips (a CLI run's 25%) is left out; none left: the defaults.
    expect(exploreChoicesOf({ targets: [0.25, 0.30000000000000004], finetuneEpochs: 0 }).targets).toEqual([
      0.3,
    ]);
    expect(exploreChoicesOf({ targets: [0.25], finetuneEpochs: 0 }).targets).toEqual([0.2, 0.4, 0.6, 0.8]);
  });

  it('labels targets in whole percent', () => {
    expect([0, 0.2, 0.35, 0.9].map(targetLabel)).toEqual(['original', '20%', '35%', '90%']);
  });

  it('draws the front by ascending cost, ties by accuracy', () => {
    expect(
      paretoFront([
        { x: 2, y: 0.5, target: 0.1 },
        { x: 1, y: 0.5, target: 0.2 },
        { x: 1, y: 0.4, target: 0.3 },
        { x: 3, y: 0.6, target: 0.4 },
      ]),
    ).toEqual([
      { x: 1, y: 0.5, target: 0.2 },
      { x: 3, y: 0.6, target: 0.4 },
    ]);
  });
});
