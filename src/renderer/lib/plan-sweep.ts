/**
 * The Method step's target slider reads one `planCompression` result: a structured-pruning dry
 * run over a sweep of targets. The slider snaps to the planned targets, so every position
 * shows numbers the pruner really computed, and moving it costs nothing.
 */
import type { PlanResult } from '../../shared/job-results';

/** One layer the plan changes (the engine's LayerPlan). */
export interface PlanLayer {
  name: string;
  className: string;
  outChannelsBefore: number;
  outChannelsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
}

export interface PlanPoint {
  /** Fraction of MACs (or parameters) the point was asked to remove, 0..1. */
  target: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
  /** The per-layer ratio the pruner settled on, where reported. */
  ratio?: number;
  /** Per-layer channels, parameters and MACs before and after; empty where the plan gave none. */
  layers: PlanLayer[];
}

export interface PlanSweep {
  by: 'macs' | 'params';
  points: PlanPoint[];
  notes: string[];
  /** Layers whose channels stay whole, with the reason. */
  unsupported: string[];
}

/** A plan job's point as the slider shows it. */
function pointOf(point: PlanResult['points'][number]): PlanPoint {
  return {
    target: point.target,
    ratio: point.ratio,
    paramsBefore: point.paramsBefore,
    paramsAfter: point.paramsAfter,
    macsBefore: point.macsBefore,
    macsAfter: point.macsAfter,
    layers: point.layers.map((layer) => ({
      name: layer.name,
      className: layer.className,
      outChannelsBefore: layer.outChannelsBefore,
      outChannelsAfter: layer.outChannelsAfter,
      paramsBefore: layer.paramsBefore,
      paramsAfter: layer.paramsAfter,
      macsBefore: layer.macsBefore,
      macsAfter: layer.macsAfter,
    })),
  };
}

/** Read a plan job's result; throws when it holds no targets. */
export function parsePlanSweep(result: PlanResult): PlanSweep {
  const points = result.points.map(pointOf).sort((a, b) => a.target - b.target);
  if (points.length === 0) throw new Error('the dry run returned no usable targets');
  const unsupported = result.unsupported.map((u) => `${u.name}: ${u.reason}`);
  return { by: result.by, points, notes: result.notes, unsupported };
}

/** Points the slider offers: a compression target must be above 0. */
export function sliderPoints(sweep: PlanSweep): PlanPoint[] {
  return sweep.points.filter((p) => p.target > 0 && p.target < 1);
}

/** The planned point nearest to `target` (ties go to the smaller target). */
export function nearestPoint(points: readonly PlanPoint[], target: number): PlanPoint | undefined {
  let best: PlanPoint | undefined;
  for (const point of points) {
    if (!best || Math.abs(point.target - target) < Math.abs(best.target - target)) best = point;
  }
  return best;
}

/** What a point actually removes, 0..1, for each measure. */
export function removedFractions(point: PlanPoint): { params: number; macs: number } {
  return {
    params: point.paramsBefore > 0 ? 1 - point.paramsAfter / point.paramsBefore : 0,
    macs: point.macsBefore > 0 ? 1 - point.macsAfter / point.macsBefore : 0,
  };
}

/**
 * The target beside what the plan really removes: "asked 60%, the plan removes 67.9% of the MACs"
 * (whole channel blocks go at once, so a plan can overshoot; two targets may give the same plan).
 */
export function achievedText(point: PlanPoint, asked: number, by: 'macs' | 'params'): string {
  const removed = removedFractions(point)[by];
  const what = by === 'macs' ? 'MACs' : 'parameters';
  const pct = (f: number, digits: number) => `${(f * 100).toFixed(digits)}%`;
  const over = removed - asked > 0.005 ? ` (${pct(removed - asked, 1)} more than asked)` : '';
  return `asked ${pct(asked, 0)}, the plan removes ${pct(removed, 1)} of the ${what}${over}`;
}

/** Other slider targets that give exactly the same plan as `point` (same totals). */
export function sameAs(points: readonly PlanPoint[], point: PlanPoint): number[] {
  return points
    .filter((p) => p !== point && p.macsAfter === point.macsAfter && p.paramsAfter === point.paramsAfter)
    .map((p) => p.target);
}
