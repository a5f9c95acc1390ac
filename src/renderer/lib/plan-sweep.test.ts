import { describe, expect, it } from 'vitest';
import {
  achievedText,
  nearestPoint,
  parsePlanSweep,
  removedFractions,
  sameAs,
  sliderPoints,
} from './plan-sweep';

const totals = (target: number, macsAfter: number, paramsAfter: number) => ({
  target,
  ratio: target,
  totals: { paramsBefore: 1000, paramsAfter, macsBefore: 10_000, macsAfter },
});

describe('parsePlanSweep', () => {
  it('reads points with nested totals, sorted by target', () => {
    const sweep = parsePlanSweep({
      by: 'macs',
      points: [totals(0.5, 5000, 600), totals(0, 10_000, 1000), totals(0.25, 7400, 800)],
      notes: ['lenet: the classifier is never pruned'],
      unsupported: [{ name: 'lambda_1', reason: 'unknown layer' }],
    });
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

  it('reads flat points under `sweep` and a plan object with its own target', () => {
    const sweep = parsePlanSweep({
      by: 'params',
      sweep: [
        { fraction: 0.1, paramsBefore: 10, paramsAfter: 9, macsBefore: 100, macsAfter: 91 },
        {
          plan: {
            target: { metric: 'params', fraction: 0.2 },
            totals: { paramsBefore: 10, paramsAfter: 8, macsBefore: 100, macsAfter: 80 },
          },
        },
        { target: 0.3 },
      ],
    });
    expect(sweep.by).toBe('params');
    expect(sweep.points.map((p) => [p.target, p.paramsAfter, p.macsAfter])).toEqual([
      [0.1, 9, 91],
      [0.2, 8, 80],
    ]);
  });

  it('refuses a result without a sweep', () => {
    expect(() => parsePlanSweep({ totals: {} })).toThrow('the dry run returned no sweep of targets');
    expect(() => parsePlanSweep({ points: [{ target: 0.1 }] })).toThrow(
      'the dry run returned no usable targets',
    );
  });
});

describe('slider points', () => {
  const sweep = parsePlanSweep({
    points: [0, 0.05, 0.1, 0.15, 0.2].map((t) => totals(t, 10_000 * (1 - t), 1000)),
  });

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
  const sweep = parsePlanSweep({
    by: 'macs',
    points: [0.6, 0.65, 0.7].map((target) => ({
      target,
      ratio: 0.69,
      paramsBefore: 61_706,
      paramsAfter: 24_507,
      macsBefore: 416_520,
      macsAfter: 133_702,
      layers: [conv, { name: 'broken' }],
    })),
  });

  it('reads each layer of a point, leaving out malformed rows', () => {
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
