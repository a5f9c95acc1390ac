/**
 * `demo` job: Pollard's whole pipeline on the bundled Fashion-MNIST sample.
 *   1. train the LeNet-style baseline                       → <out>/baseline/
 *   2. structured pruning to 50% fewer MACs, fine-tune,
 *      then uint8 weight quantization                       → <out>/compressed/
 *   3. compare before and after (accuracy, parameters, MACs, size, latency, energy)
 *   4. the energy-savings report (HTML, JSON, CSV; PDF where Chromium is present) → <out>/report/
 */
import path from 'node:path';
import { compressSpecSchema, type ReportFormat, type SpecOf, trainSpecSchema } from '../../../shared/jobs';
import { SAMPLE_DATASET } from '../../util/paths';
import { type CompressResult, runCompress } from '../compress/compress-job';
import { writeDemoReport } from '../report/demo-report';
import { runTrainJob, type TrainResult } from '../train/train-job';
import type { JobContext } from './context';

export interface DemoResult {
  kind: 'demo';
  backend: string;
  device: string;
  runDir: string;
  data: string;
  /** The compressed model's numbers (the `after` of the comparison). */
  accuracy: number;
  params: number;
  macs: number;
  sizeBytes: number;
  sizeGzipBytes: number;
  modelPath: string;
  before: CompressResult['before'];
  after: CompressResult['after'];
  baseline: Pick<
    TrainResult,
    'accuracy' | 'epochs' | 'samplesPerSecond' | 'params' | 'macs' | 'sizeBytes' | 'runDir' | 'trainingEnergy'
  >;
  compression: CompressResult;
  /** The HTML energy-savings report. */
  report: string;
  reportFiles: Partial<Record<ReportFormat, string>>;
}

export async function runDemoJob(spec: SpecOf<'demo'>, ctx: JobContext): Promise<DemoResult> {
  const common = { backend: spec.backend, seed: spec.seed, batchSize: spec.batchSize, verbose: spec.verbose };
  const limit = spec.limit !== undefined ? { limit: spec.limit } : {};

  ctx.emit({
    type: 'stage',
    stage: 'demo 1/2: baseline',
    detail: `lenet on ${path.basename(SAMPLE_DATASET)}`,
  });
  const baseline = await runTrainJob(
    trainSpecSchema.parse({
      kind: 'train',
      data: SAMPLE_DATASET,
      arch: 'lenet',
      out: path.join(spec.out, 'baseline'),
      training: { epochs: spec.epochs, validationSplit: 0.1 },
      ...common,
      ...limit,
    }),
    ctx,
  );

  ctx.emit({ type: 'stage', stage: 'demo 2/2: compress', detail: '50% fewer MACs, fine-tune, uint8' });
  const compression = await runCompress(
    compressSpecSchema.parse({
      kind: 'compress',
      model: baseline.modelPath,
      data: SAMPLE_DATASET,
      out: path.join(spec.out, 'compressed'),
      method: 'structured+quantize',
      targetMacs: 0.5,
      dtype: 'uint8',
      criterion: 'l1',
      finetuneEpochs: 2,
      training: { learningRate: 0.001, validationSplit: 0.1 },
      // The baseline trained on the same data and batch size: its epochs are the original's training energy.
      energy: { baselineRun: path.join(spec.out, 'baseline') },
      ...common,
      ...limit,
    }),
    ctx,
  );

  ctx.emit({ type: 'stage', stage: 'demo: report', detail: path.join(spec.out, 'report') });
  const report = await writeDemoReport(spec.out);
  for (const note of report.notes) ctx.log('info', note);

  return {
    kind: 'demo',
    backend: ctx.backend.used,
    device: ctx.backend.device,
    runDir: spec.out,
    data: SAMPLE_DATASET,
    accuracy: compression.after.accuracy,
    params: compression.after.params,
    macs: compression.after.macs,
    sizeBytes: compression.after.sizeBytes,
    sizeGzipBytes: compression.after.sizeGzipBytes,
    modelPath: compression.modelPath,
    before: compression.before,
    after: compression.after,
    baseline: {
      accuracy: baseline.accuracy,
      epochs: baseline.epochs,
      samplesPerSecond: baseline.samplesPerSecond,
      params: baseline.params,
      macs: baseline.macs,
      sizeBytes: baseline.sizeBytes,
      runDir: baseline.runDir,
      trainingEnergy: baseline.trainingEnergy,
    },
    compression,
    report: report.html,
    reportFiles: report.files,
  };
}
