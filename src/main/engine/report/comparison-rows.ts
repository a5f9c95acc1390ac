/** Rows of the report's before/after comparison table that more than one document builds. */
import type { OnnxDeployment } from '../onnx/deployment';
import type { ComparisonRow } from './report-types';

export function percent(fraction: number): number {
  return fraction * 100;
}

export function ratioRow(
  id: string,
  metric: string,
  unit: string,
  label: ComparisonRow['label'],
  before: number | null,
  after: number | null,
  reason?: string,
): ComparisonRow {
  const row: ComparisonRow = {
    id,
    metric,
    unit,
    label,
    before,
    after,
    change: before !== null && after !== null && after > 0 ? before / after : null,
    changeUnit: 'x',
  };
  if (reason !== undefined) row.reason = reason;
  return row;
}

/**
 * Both models deployed on ONNX Runtime (CPU): accuracy and latency there, with the latency
 * change only where the interquartile ranges of the timed runs do not overlap.
 */
export function onnxRuntimeRows(d: OnnxDeployment | undefined): ComparisonRow[] {
  if (d === undefined) return [];
  const formats =
    d.before.format === d.after.format ? d.after.format : `${d.before.format} → ${d.after.format}`;
  const where = `${d.runtime}, ${formats}`;
  const latency = (key: 'batch1' | 'batch32', n: number): ComparisonRow => {
    const row = ratioRow(
      `onnxLatency${key === 'batch1' ? 'Batch1' : 'Batch32'}`,
      `latency, batch ${n} (median, ${where})`,
      'ms',
      'measured',
      d.before.latencyMs[key],
      d.after.latencyMs[key],
    );
    if (d.speedup[key] === null) {
      row.change = null;
      row.verdict = 'no measurable difference';
      row.reason = 'the interquartile ranges of the timed runs overlap';
    }
    return row;
  };
  return [
    {
      id: 'onnxAccuracy',
      metric: `accuracy (top-1, ${d.evaluation.samples} ${d.evaluation.split} samples, ${where})`,
      unit: '%',
      label: 'measured',
      before: percent(d.before.accuracy),
      after: percent(d.after.accuracy),
      change: percent(d.after.accuracy) - percent(d.before.accuracy),
      changeUnit: 'points',
    },
    latency('batch1', 1),
    latency('batch32', 32),
    ratioRow(
      'onnxSize',
      `model file size (${where})`,
      'bytes',
      'measured',
      d.before.sizeBytes,
      d.after.sizeBytes,
    ),
  ];
}
