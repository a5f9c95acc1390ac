/** `inspect` job: format, input shape, classes, layers, parameters, MACs and sizes of a model. */
import type { SpecOf } from '../../../shared/jobs';
import { inspectModel } from '../model/summary';
import type { JobContext } from './context';
import type { JobResult } from './handlers';

export async function runInspectJob(spec: SpecOf<'inspect'>, ctx: JobContext): Promise<JobResult> {
  const summary = await inspectModel(spec.model);
  return { backend: ctx.backend.used, ...summary, runDir: null };
}
