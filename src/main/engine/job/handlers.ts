/**
 * Job kind → engine function. Each handler is imported lazily so a job process loads only
 * what its job needs. Handlers return their kind's result type (src/shared/job-results.ts), so a
 * key renamed in the engine fails the typecheck here. The jobs import only job/context.ts, never
 * this file (lint enforces it), so imports run one way: handlers → jobs → context.
 */
import type { ResultOf } from '../../../shared/job-results';
import type { JobKind, SpecOf } from '../../../shared/jobs';
import type { JobContext } from './context';

export type JobHandler<K extends JobKind> = (spec: SpecOf<K>, ctx: JobContext) => Promise<ResultOf<K>>;

type HandlerLoaders = { [K in JobKind]: () => Promise<JobHandler<K>> };

const loaders: HandlerLoaders = {
  info: async () => (await import('./info-job')).runInfoJob,
  inspect: async () => (await import('./inspect-job')).runInspectJob,
  dataset: async () => (await import('./dataset-job')).runDatasetJob,
  train: async () => (await import('../train/train-job')).runTrainJob,
  evaluate: async () => (await import('../train/evaluate-job')).runEvaluateJob,
  compress: async () => (await import('../compress/compress-job')).runCompress,
  sensitivity: async () => (await import('../compress/compress-job')).runSensitivity,
  plan: async () => (await import('../compress/compress-job')).runPlan,
  explore: async () => (await import('../compress/explore-job')).runExplore,
  demo: async () => (await import('./demo-job')).runDemoJob,
  report: async () => (await import('../report/report-job')).runReportJob,
  'export-model': async () => (await import('../model/export-model-job')).runExportModelJob,
};

export async function loadHandler<K extends JobKind>(kind: K): Promise<JobHandler<K>> {
  return (loaders[kind] as () => Promise<JobHandler<K>>)();
}
