/**
 * A sensitivity job's result read into curves for the per-layer chart: accuracy of the model
 * with one channel group pruned at each ratio, without fine-tuning.
 */
import type { SensitivityResult } from '../../shared/job-results';

export interface SensitivityCurve {
  /** The group's producing layers, e.g. "conv2d_2 + conv2d_3". */
  name: string;
  /** Accuracy (0..1) at each of `ratios`; null where the job did not measure it. */
  accuracy: (number | null)[];
}

export interface SensitivityView {
  ratios: number[];
  /** Accuracy of the unpruned model on the same samples. */
  baseline: number;
  curves: SensitivityCurve[];
}

export function parseSensitivityResult(result: SensitivityResult): SensitivityView {
  if (result.groups.length === 0) throw new Error('the sensitivity result has no per-layer measurements');
  const curves = result.groups.map((group) => ({
    name: group.producers.length > 0 ? group.producers.join(' + ') : group.id,
    accuracy: result.ratios.map((_, i) => group.accuracy[i] ?? null),
  }));
  return { ratios: result.ratios, baseline: result.baselineAccuracy, curves };
}
