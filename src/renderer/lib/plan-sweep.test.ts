import { describe, expect, it } from 'vitest';
import type { PlanResult } from '../../shared/job-results';
import { planResultFixture } from '../../shared/testing/result-fixtures';
import {
  achievedText,
  nearestPoint,
  parsePlanSweep,
  removedFractions,
  sameAs,
  sliderPoints,
} from './plan-sweep';

const totals = (target: number, macsAfter: number, paramsAfter: number): PlanResult['points'][number] => ({
  target,
  ratio: target,
  paramsBefore: 1000,
  paramsAfter,
  macsBefore: 10_000,
  macsAfter,
  groups: [],
  layers: [],
});

describe('parsePlanSweep', () => {
  it('reads the points sorted by target, the notes and the layers left whole', () => {
    const sweep = parsePlanSweep(
      planResultFixture({
        points: [totals(0.5, 5000, 600), totals(0, 10_000, 1000), totals(0.25, 7400, 800)],
        notes: ['lenet: the classifier is never pruned'],
        unsupported: [{ name: 'lambda_1', className: 'Lambda', reason: 'unknown layer' }],
      }),
    );
    expect(sweep.by).toBe('macs');
    expect(sweep.points.map((p) => p.target)).toEqual([0, 0.25, 0.5]);
    expect(sweep.points[1]).toEqual({
      target: 0.25,
      ratio: 0.25,
      paramsBefore: 1000,
      paramsAfter: 800,
      macsBefore: 10_000,
      macsAfter: 7400,
      layers: [],
    });
    expect(sweep.notes).toEqual(['lenet: the classifier is never pruned']);
    expect(sweep.unsupported).toEqual(['lambda_1: unknown layer']);
  });

  it('refuses a result without targets', () => {
    expect(() => parsePlanSweep(planResultFixture({ points: [] }))).toThrow(
      'the dry run returned no usable targets',
    );
  });
});

describe('slider points', () => {
  const sweep = parsePlanSweep(
    planResultFixture({ points: [0, 0.05, 0.1, 0.15, 0.2].map((t) => totals(t, 10_000 * (1 - t), 1000)) }),
  );

  it('leaves out the 0 target, which is not a compression', () => {
    expect(sliderPoints(sweep).map((p) => p.target)).toEqual([0.05, 0.1, 0.15, 0.2]);
  });

  it('snaps to the nearest planned target', () => {
    const points = sliderPoints(sweep);
    expect(nearestPoint(points, 0.12)?.target).toBe(0.1);
    expect(nearestPoint(points, 0.14)?.target).toBe(0.15);
    expect(nearestPoint(points, 0.9)?.target).toBe(0.2);
    expect(nearestPoint([], 0.5)).toBeUndefined();
  });

  it('reports what a point removes', () => {
    const point = sliderPoints(sweep)[3]!;
    const removed = removedFractions(point);
    expect(removed.macs).toBeCloseTo(0.2, 12);
    expect(removed.params).toBe(0);
  });
});

describe('per-layer plan and the achieved figure', () => {
  const conv = {
    name: 'conv2',
    className: 'Conv2D',
    inChannelsBefore: 6,
    inChannelsAfter: 3,
    outChannelsBefore: 16,
    outChannelsAfter: 5,
    paramsBefore: 2416,
    paramsAfter: 380,
    macsBefore: 240_000,
    macsAfter: 37_500,
  };
  // The engine's plan job puts totals and layers flat on each point.
  const sweep = parsePlanSweep(
    planResultFixture({
      points: [0.6, 0.65, 0.7].map((target) => ({
        target,
        ratio: 0.69,
        paramsBefore: 61_706,
        paramsAfter: 24_507,
        macsBefore: 416_520,
        macsAfter: 133_702,
        groups: [],
        layers: [conv],
      })),
    }),
  );

  it('reads each layer of a point', () => {
    expect(sweep.points[0]!.layers).toEqual([
      {
        name: 'conv2',
        className: 'Conv2D',
        outChannelsBefore: 16,
        outChannelsAfter: 5,
        paramsBefore: 2416,
        paramsAfter: 380,
        macsBefore: 240_000,
        macsAfter: 37_500,
      },
    ]);
  });

  it('says what the plan removes beside the target, and which targets give the same plan', () => {
    const point = sweep.points[0]!;
    expect(achievedText(point, 0.6, 'macs')).toBe(
      'asked 60%, the plan removes 67.9% of the MACs (7.9% more than asked)',
    );
    expect(achievedText(point, 0.6, 'params')).toBe('asked 60%, the plan removes 60.3% of the parameters');
    expect(sameAs(sweep.points, point)).toEqual([0.65, 0.7]);
  });
});
