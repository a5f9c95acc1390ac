/** `pollard explore`'s table: one row per point, the Pareto points starred. */
import type { ExploreResult } from '../../shared/job-results';
import { table } from './format';

const pct = (n: number): string => `${(n * 100).toFixed(2)}%`;

export function formatExplore(result: ExploreResult): string {
  const tuned = result.finetuneEpochs > 0;
  const header = [
    'target',
    result.by === 'macs' ? 'MACs cut' : 'params cut',
    'MACs',
    'params',
    'accuracy pruned',
    ...(tuned ? [`after ${result.finetuneEpochs} ep`] : []),
    'latency b32',
    'pareto',
  ];
  const rows = result.points.map((p) => [
    p.target === 0 ? 'original' : `${Math.round(p.target * 100)}%`,
    pct(result.by === 'macs' ? p.macsRemoved : p.paramsRemoved),
    Math.round(p.macs).toLocaleString('en-US'),
    Math.round(p.params).toLocaleString('en-US'),
    pct(p.accuracyPruned),
    ...(tuned ? [p.accuracyFineTuned === undefined ? '—' : pct(p.accuracyFineTuned)] : []),
    `${p.latencyMs.toFixed(2)} ms`,
    p.pareto ? '*' : '',
  ]);
  const lines = [
    table([header, ...rows]).trimEnd(),
    `accuracy on ${result.evaluation.samples.toLocaleString('en-US')} ${result.evaluation.split} samples; * no other point is both as accurate and smaller`,
    ...result.notes.map((note) => `note: ${note}`),
    `files: ${result.files.json}, ${result.files.csv}`,
  ];
  return lines.join('\n') + '\n';
}
