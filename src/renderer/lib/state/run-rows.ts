/**
 * Recent runs as a table and two runs side by side: each run's headline (RunSummary) turned into
 * the words and numbers a person reads — method, date, accuracy before → after, MACs cut, energy
 * saved — never raw keys or epoch milliseconds.
 */
import type { RunSummary } from '../../../shared/api';
import { formatPercent, formatPoints } from '../format';
import { METHODS } from '../job-specs';

const DASH = '—';

export interface RunRow {
  dir: string;
  /** "Structured pruning", "train", or "damaged run". */
  method: string;
  date: string;
  status: string;
  /** "85.50% → 85.00%", "86.45%" or "—". */
  accuracy: string;
  /** "−0.50 pts", or "—". */
  accuracyChange: string;
  /** "51.6%" fewer MACs, or "—". */
  macsCut: string;
  /** "40.0%", "costlier by 5.0%", "no measurable difference", or "—". */
  energySaved: string;
  /** Why the record could not be read (a damaged run). */
  damaged: string | null;
}

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const pad = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM`, local time; "—" for a date that does not parse. */
export function formatRunDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return DASH;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function methodTitle(run: RunSummary): string {
  if (run.damaged !== undefined) return 'damaged run';
  const method = run.headline.method;
  if (method !== undefined) return METHODS[method as keyof typeof METHODS]?.title ?? method;
  return run.kind;
}

export function statusWord(run: RunSummary): string {
  return run.interrupted ? 'interrupted' : run.status;
}

export function accuracyText(run: RunSummary): string {
  const after = num(run.headline.accuracy);
  const before = num(run.headline.accuracyBefore);
  if (after === undefined) return DASH;
  return before === undefined ? formatPercent(after) : `${formatPercent(before)} → ${formatPercent(after)}`;
}

export function macsCutText(run: RunSummary): string {
  const ratio = num(run.headline.macsRatio);
  return ratio === undefined ? DASH : formatPercent(1 - ratio, 1);
}

export function energySavedText(run: RunSummary): string {
  const saving = num(run.headline.energySaving);
  if (saving !== undefined)
    return saving >= 0 ? formatPercent(saving, 1) : `costlier by ${formatPercent(-saving, 1)}`;
  return run.headline.energyVerdict ?? DASH;
}

export function runRow(run: RunSummary): RunRow {
  return {
    dir: run.dir,
    method: methodTitle(run),
    date: formatRunDate(run.createdAt),
    status: statusWord(run),
    accuracy: accuracyText(run),
    accuracyChange: formatPoints(run.headline.accuracyBefore, run.headline.accuracy),
    macsCut: macsCutText(run),
    energySaved: energySavedText(run),
    damaged: run.damaged ?? null,
  };
}

/** The rows of the side-by-side comparison: a label and each run's value. */
export function comparisonRows(a: RunSummary, b: RunSummary): { label: string; values: [string, string] }[] {
  const ra = runRow(a);
  const rb = runRow(b);
  const size = (run: RunSummary): string => {
    const ratio = num(run.headline.sizeRatio);
    return ratio === undefined ? DASH : formatPercent(1 - ratio, 1);
  };
  const field = (run: RunSummary, key: 'backend' | 'method'): string => run.headline[key] ?? DASH;
  return [
    { label: 'Method', values: [ra.method, rb.method] },
    { label: 'Started', values: [ra.date, rb.date] },
    { label: 'Status', values: [ra.status, rb.status] },
    {
      label: 'Accuracy before',
      values: [formatPercent(a.headline.accuracyBefore), formatPercent(b.headline.accuracyBefore)],
    },
    {
      label: 'Accuracy after',
      values: [formatPercent(a.headline.accuracy), formatPercent(b.headline.accuracy)],
    },
    { label: 'Accuracy change', values: [ra.accuracyChange, rb.accuracyChange] },
    { label: 'MACs cut', values: [ra.macsCut, rb.macsCut] },
    { label: 'File size cut', values: [size(a), size(b)] },
    { label: 'Inference energy saved', values: [ra.energySaved, rb.energySaved] },
    { label: 'Backend', values: [field(a, 'backend'), field(b, 'backend')] },
  ];
}
