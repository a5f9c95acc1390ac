/** `inspect` job: format, input shape, classes, layers, parameters, MACs and sizes of a model. */
import type { InspectResult } from '../../../shared/job-results';
import type { SpecOf } from '../../../shared/jobs';
import { inspectModel } from '../model/summary';
import type { JobContext } from './context';

export async function runInspectJob(spec: SpecOf<'inspect'>, ctx: JobContext): Promise<InspectResult> {
  const summary = await inspectModel(spec.model);
  return { kind: 'inspect', backend: ctx.backend.used, ...summary, runDir: null };
}
