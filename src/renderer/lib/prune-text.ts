/** The app's words for a run pruned while training: when the structure was found, and the saving. */
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

function ratio(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = (value as { ratio?: unknown }).ratio;
  return typeof r === 'number' && Number.isFinite(r) ? r : null;
}

/** Whole-run training energy and time saved against the dense run, from the train job's result. */
export function savingText(result: Record<string, unknown> | null): string {
  const savings = result?.savings;
  if (typeof savings !== 'object' || savings === null) return NO_DENSE_RUN;
  const { energy, wallTime } = savings as { energy?: unknown; wallTime?: unknown };
  const e = ratio(energy);
  const t = ratio(wallTime);
  const energyText =
    e === null ? 'training energy saving unavailable' : `${e.toFixed(2)}× less training energy`;
  return `${energyText} and ${t === null ? 'wall time unavailable' : `${t.toFixed(2)}× less wall time`} than the dense run, over the whole run`;
}
