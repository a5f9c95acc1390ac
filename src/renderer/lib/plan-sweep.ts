/**
 * The Method step's target slider reads one `planCompression` result: a structured-pruning dry
 * run over a sweep of targets. The slider snaps to the planned targets, so every position
 * shows numbers the pruner really computed, and moving it costs nothing.
 */

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

type Json = Record<string, unknown>;

const record = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function pointOf(entry: unknown): PlanPoint | undefined {
  const e = record(entry);
  if (!e) return undefined;
  const plan = record(e.plan) ?? e;
  const totals = record(plan.totals) ?? record(e.totals) ?? plan;
  const targetRecord = record(e.target) ?? record(plan.target);
  const target = num(e.target) ?? num(e.fraction) ?? num(targetRecord?.fraction);
  const paramsBefore = num(totals.paramsBefore);
  const paramsAfter = num(totals.paramsAfter);
  const macsBefore = num(totals.macsBefore);
  const macsAfter = num(totals.macsAfter);
  if (
    target === undefined ||
    paramsBefore === undefined ||
    paramsAfter === undefined ||
    macsBefore === undefined ||
    macsAfter === undefined
  )
    return undefined;
  const ratio = num(plan.ratio) ?? num(e.ratio);
  const layers = (Array.isArray(plan.layers) ? plan.layers : []).map(layerOf).filter((l) => l !== undefined);
  return {
    target,
    paramsBefore,
    paramsAfter,
    macsBefore,
    macsAfter,
    ...(ratio !== undefined ? { ratio } : {}),
    layers,
  };
}

function layerOf(entry: unknown): PlanLayer | undefined {
  const e = record(entry);
  if (!e || typeof e.name !== 'string') return undefined;
  const keys = [
    'outChannelsBefore',
    'outChannelsAfter',
    'paramsBefore',
    'paramsAfter',
    'macsBefore',
    'macsAfter',
  ] as const;
  const values = keys.map((key) => num(e[key]));
  if (values.some((v) => v === undefined)) return undefined;
  const [outChannelsBefore, outChannelsAfter, paramsBefore, paramsAfter, macsBefore, macsAfter] =
    values as number[];
  return {
    name: e.name,
    className: typeof e.className === 'string' ? e.className : '',
    outChannelsBefore: outChannelsBefore!,
    outChannelsAfter: outChannelsAfter!,
    paramsBefore: paramsBefore!,
    paramsAfter: paramsAfter!,
    macsBefore: macsBefore!,
    macsAfter: macsAfter!,
  };
}

/** Read a plan job's result; throws when it holds no usable sweep. */
export function parsePlanSweep(result: Json): PlanSweep {
  const list = [result.points, result.sweep, result.plans].find(Array.isArray) as unknown[] | undefined;
  if (!list) throw new Error('the dry run returned no sweep of targets');
  const points = list
    .map(pointOf)
    .filter((p): p is PlanPoint => p !== undefined)
    .sort((a, b) => a.target - b.target);
  if (points.length === 0) throw new Error('the dry run returned no usable targets');
  const notes = Array.isArray(result.notes) ? result.notes.filter((n) => typeof n === 'string') : [];
  const unsupported = Array.isArray(result.unsupported)
    ? result.unsupported.map((u) => {
        const entry = record(u);
        if (!entry) return String(u);
        const name = typeof entry.name === 'string' ? entry.name : '?';
        return typeof entry.reason === 'string' ? `${name}: ${entry.reason}` : name;
      })
    : [];
  return { by: result.by === 'params' ? 'params' : 'macs', points, notes, unsupported };
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
