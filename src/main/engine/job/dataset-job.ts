/** `dataset` job: open a dataset, describe it, and render a few sample images per class. */
import type { DatasetResult } from '../../../shared/job-results';
import type { SpecOf } from '../../../shared/jobs';
import { describeDataset } from '../data/describe';
import { previewImages } from '../data/preview';
import { openDataset } from '../data/registry';
import type { JobContext } from './context';

export async function runDatasetJob(spec: SpecOf<'dataset'>, ctx: JobContext): Promise<DatasetResult> {
  ctx.emit({ type: 'stage', stage: 'open dataset', detail: spec.data });
  const dataset = await openDataset(spec.data, spec.limit !== undefined ? { limit: spec.limit } : {});
  const info = describeDataset(dataset);
  const previews = spec.previews > 0 ? await previewImages(dataset, spec.previews) : [];
  return { kind: 'dataset', backend: ctx.backend.used, info, previews };
}
