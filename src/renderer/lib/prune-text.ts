/** The app's words for a run pruned while training: when the structure was found, and the saving. */
import { type JobResult, resultOfKind } from '../../shared/job-results';
import type { PrunedEvent } from '../../shared/jobs';
import { formatInt } from './format';

export const NO_DENSE_RUN =
  "no dense run to compare with: start with 'compare with a dense run' to measure the saving";

export function prunedText(prune: Omit<PrunedEvent, 'type'>): string {
  const distance =
    prune.maskDistance === null ? 'no mask distance yet' : `mask distance ${prune.maskDistance.toFixed(3)}`;
  const step = prune.steps > 1 ? ` (step ${prune.step} of ${prune.steps})` : '';
  return `structure found at epoch ${prune.epoch} (${distance})${step}; network shrank from ${formatInt(prune.macsBefore)} to ${formatInt(prune.macsAfter)} MACs`;
}

/** Whole-run training energy and time saved against the dense run, from the train job's result. */
export function savingText(result: JobResult | null): string {
  const savings = result ? resultOfKind('train', result)?.savings : undefined;
  if (!savings) return NO_DENSE_RUN;
  const e = savings.energy.ratio;
  const t = savings.wallTime.ratio;
  const energyText =
    e === null ? 'training energy saving unavailable' : `${e.toFixed(2)}× less training energy`;
  return `${energyText} and ${t.toFixed(2)}× less wall time than the dense run, over the whole run`;
}
