/**
 * An explore run as the Method step shows it: one table row per point (the original first) and two
 * scatter charts, accuracy against MACs and against batch-32 latency, each with its Pareto points
 * joined by a line. A point is judged by its accuracy after the brief fine-tuning where there was
 * one, else right after pruning (as the engine's `pareto` flag is).
 */
import type { ExplorePoint, ExploreResult } from '../../shared/job-results';
import { niceStep } from './charts/ticks';

/** The targets offered as chips: multiples of 10%, which the Method step's slider can also show. */
export const EXPLORE_TARGET_CHOICES: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** The engine's default targets (exploreSpecSchema). */
export const DEFAULT_EXPLORE_TARGETS: readonly number[] = [0.2, 0.4, 0.6, 0.8];
/** "Briefly": at most this many fine-tuning epochs per point. */
export const MAX_EXPLORE_FINETUNE_EPOCHS = 3;

const same = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

/** The targets with `target` added or removed, in ascending order. */
export function toggleTarget(targets: readonly number[], target: number): number[] {
  const next = targets.some((t) => same(t, target))
    ? targets.filter((t) => !same(t, target))
    : [...targets, target];
  return next.sort((a, b) => a - b);
}

/**
 * The chips and epochs of an explore run the panel shows (from its spec while it runs, from its
 * result's points once finished), so Run explore repeats it; targets off the chips are left out.
 */
export function exploreChoicesOf(
  run:
    { targets: readonly number[]; finetuneEpochs: number } | Pick<ExploreResult, 'points' | 'finetuneEpochs'>,
): { targets: number[]; epochs: number } {
  const asked = 'points' in run ? run.points.map((p) => p.target).filter((t) => t > 0) : run.targets;
  const targets = EXPLORE_TARGET_CHOICES.filter((c) => asked.some((t) => same(t, c)));
  return {
    targets: targets.length > 0 ? targets : [...DEFAULT_EXPLORE_TARGETS],
    epochs: Math.min(Math.max(0, run.finetuneEpochs), MAX_EXPLORE_FINETUNE_EPOCHS),
  };
}

/** "original" for the unpruned model, else the target in whole percent ("40%"). */
export function targetLabel(target: number): string {
  return target === 0 ? 'original' : `${Math.round(target * 100)}%`;
}

export interface ExploreRow {
  target: number;
  label: string;
  original: boolean;
  params: number;
  macs: number;
  macsCut: number;
  paramsCut: number;
  accuracyPruned: number;
  accuracyFineTuned: number | null;
  /** What the point is judged by: after fine-tuning where done, else after pruning. */
  accuracy: number;
  latencyMs: number;
  /** The engine's flag: no other point is at least as accurate with at most as many MACs. */
  pareto: boolean;
}

export interface ChartPoint {
  x: number;
  y: number;
  /** The row's target (0: the original), which a click picks. */
  target: number;
}

export interface ExploreChart {
  original: ChartPoint | null;
  /** The pruned points, in target order. */
  points: ChartPoint[];
  /** The points no other point on this chart dominates, by ascending x: the line drawn. */
  front: ChartPoint[];
}

export interface AccuracyAxis {
  min: number;
  max: number;
  stepSize: number;
  label: (value: number) => string;
}

export interface ExploreView {
  by: ExploreResult['by'];
  finetuneEpochs: number;
  rows: ExploreRow[];
  macs: ExploreChart;
  latency: ExploreChart;
  accuracyAxis: AccuracyAxis;
  /** "accuracy on 200 test samples". */
  evaluation: string;
  notes: string[];
}

function rowOf(point: ExplorePoint): ExploreRow {
  const tuned = point.accuracyFineTuned ?? null;
  return {
    target: point.target,
    label: targetLabel(point.target),
    original: point.target === 0,
    params: point.params,
    macs: point.macs,
    macsCut: point.macsRemoved,
    paramsCut: point.paramsRemoved,
    accuracyPruned: point.accuracyPruned,
    accuracyFineTuned: tuned,
    accuracy: tuned ?? point.accuracyPruned,
    latencyMs: point.latencyMs,
    pareto: point.pareto,
  };
}

/** The points no other dominates (at least as accurate at no greater x, one of them strictly), by ascending x. */
export function paretoFront(points: readonly ChartPoint[]): ChartPoint[] {
  return points
    .filter((p) => !points.some((q) => q !== p && q.y >= p.y && q.x <= p.x && (q.y > p.y || q.x < p.x)))
    .sort((a, b) => a.x - b.x || a.y - b.y);
}

function chartOf(rows: readonly ExploreRow[], x: (row: ExploreRow) => number): ExploreChart {
  const all = rows.map((row) => ({ x: x(row), y: row.accuracy, target: row.target }));
  return {
    original: all.find((p) => p.target === 0) ?? null,
    points: all.filter((p) => p.target !== 0),
    front: paretoFront(all),
  };
}

/** Decimals a percent step needs: 5% → 0, 0.5% → 1, 0.2% → 1. */
function percentDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step * 100) + 1e-9));
}

/**
 * The accuracy axis: whole steps of 1, 2 or 5 × 10ⁿ percent around the points (a 0–100% axis would
 * squash points a few points apart into one line), within 0–100%.
 */
export function accuracyAxis(values: readonly number[]): AccuracyAxis {
  const lo = values.length > 0 ? Math.min(...values) : 0;
  const hi = values.length > 0 ? Math.max(...values) : 1;
  const step = niceStep(Math.max(hi - lo, 0.01) / 4);
  const digits = percentDecimals(step);
  // So 19 × 0.005 is 0.095, not 0.09500000000000001.
  const round = (n: number): number => Number(n.toFixed(digits + 2));
  // The step below the lowest point and the one above the highest, so no point sits on the frame.
  const min = Math.max(0, round((Math.ceil(lo / step - 1e-6) - 1) * step));
  const max = Math.min(1, round((Math.floor(hi / step + 1e-6) + 1) * step));
  return { min, max, stepSize: step, label: (v) => `${(v * 100).toFixed(digits)}%` };
}

export function exploreView(result: ExploreResult): ExploreView {
  const rows = [...result.points].sort((a, b) => a.target - b.target).map(rowOf);
  return {
    by: result.by,
    finetuneEpochs: result.finetuneEpochs,
    rows,
    macs: chartOf(rows, (row) => row.macs),
    latency: chartOf(rows, (row) => row.latencyMs),
    accuracyAxis: accuracyAxis(rows.map((row) => row.accuracy)),
    evaluation: `accuracy on ${result.evaluation.samples.toLocaleString('en-US')} ${result.evaluation.split} samples`,
    notes: [...result.notes],
  };
}

/** The Method step's target for a picked point: its target and what it counts (MACs or parameters). */
export function pickedChoice(
  view: Pick<ExploreView, 'by'>,
  target: number,
): { target: number; targetBy: 'macs' | 'params' } | null {
  return target > 0 ? { target, targetBy: view.by } : null;
}

/** The row the Method step's target now points at, if the explore run measured it. */
export function chosenTarget(
  view: Pick<ExploreView, 'by' | 'rows'>,
  choice: { target: number; targetBy: 'macs' | 'params' },
): number | null {
  if (choice.targetBy !== view.by) return null;
  return view.rows.find((row) => !row.original && same(row.target, choice.target))?.target ?? null;
}
