/**
 * A sensitivity job's result read into curves for the per-layer chart: accuracy of the model
 * with one layer (channel group) pruned at each ratio, without fine-tuning.
 */

export interface SensitivityCurve {
  name: string;
  /** Accuracy (0..1) at each of `ratios`; null where the job did not measure it. */
  accuracy: (number | null)[];
}

export interface SensitivityView {
  ratios: number[];
  /** Accuracy of the unpruned model on the same samples. */
  baseline?: number;
  curves: SensitivityCurve[];
}

type Json = Record<string, unknown>;
const record = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function nameOf(entry: Json): string {
  if (typeof entry.name === 'string') return entry.name;
  if (typeof entry.layer === 'string') return entry.layer;
  if (Array.isArray(entry.producers) && entry.producers.length > 0) return entry.producers.join(' + ');
  return typeof entry.id === 'string' ? entry.id : '?';
}

export function parseSensitivityResult(result: Json): SensitivityView {
  const list = [result.groups, result.layers, result.rows, result.sensitivity].find(Array.isArray) as
    unknown[] | undefined;
  if (!list) throw new Error('the sensitivity result has no per-layer measurements');
  const entries = list.map(record).filter((e): e is Json => e !== undefined);
  let ratios = Array.isArray(result.ratios)
    ? result.ratios.filter((r): r is number => num(r) !== undefined)
    : [];
  if (ratios.length === 0) {
    const all = new Set<number>();
    for (const entry of entries) {
      const points = [entry.points, entry.curve].find(Array.isArray) as unknown[] | undefined;
      for (const p of points ?? []) {
        const ratio = num(record(p)?.ratio);
        if (ratio !== undefined) all.add(ratio);
      }
    }
    ratios = [...all].sort((a, b) => a - b);
  }
  const curves = entries.map((entry): SensitivityCurve => {
    const points = [entry.points, entry.curve].find(Array.isArray) as unknown[] | undefined;
    if (points) {
      const byRatio = new Map<number, number>();
      for (const p of points) {
        const point = record(p);
        const ratio = num(point?.ratio);
        const accuracy = num(point?.accuracy);
        if (ratio !== undefined && accuracy !== undefined) byRatio.set(ratio, accuracy);
      }
      return { name: nameOf(entry), accuracy: ratios.map((r) => byRatio.get(r) ?? null) };
    }
    const values = [entry.accuracies, entry.accuracy].find(Array.isArray) as unknown[] | undefined;
    return { name: nameOf(entry), accuracy: ratios.map((_, i) => num(values?.[i]) ?? null) };
  });
  const baseline =
    num(result.baseline) ?? num(record(result.baseline)?.accuracy) ?? num(result.baselineAccuracy);
  return { ratios, ...(baseline !== undefined ? { baseline } : {}), curves };
}
