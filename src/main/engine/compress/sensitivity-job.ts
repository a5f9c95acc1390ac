/** The `sensitivity` job: per-group accuracy at each ratio, without fine-tuning, as JSON and CSV. */
import { requireSingleInputOutput } from '../model/single-io';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SpecOf } from '../../../shared/jobs';
import type { BackendName } from '../../../shared/types';
import type { JobContext } from '../job/context';
import { modelNormalization } from '../data/input-scaling';
import { openModel } from '../model/registry';
import type { Calibration } from './importance';
import { stage, writeSensitivityFiles } from './job-common';
import { accuracyOn, calibrationBatch, firstSamples, prepareCompressionData } from './job-data';
import type { SensitivityResult } from './sensitivity';
import { analyzeSensitivity } from './sensitivity';

export type SensitivityJobResult = SensitivityResult & {
  kind: 'sensitivity';
  backend: BackendName;
  runDir: string;
  samples: number;
  files: { json: string; csv: string };
};

export async function runSensitivity(
  spec: SpecOf<'sensitivity'>,
  ctx: JobContext,
): Promise<SensitivityJobResult> {
  await fs.mkdir(spec.out, { recursive: true });
  stage(ctx, 'load', spec.model);
  const loaded = await openModel(spec.model);
  const calibrationHolder: { batch?: Calibration } = {};
  try {
    requireSingleInputOutput(loaded.model, spec.model);
    const data = await prepareCompressionData(spec.data, loaded.model, {
      ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      validationSplit: 0.1,
      seed: spec.seed,
      ...modelNormalization(spec.inputScaling, loaded.metadata.normalization),
    });
    const subset = firstSamples(data.validation, spec.samples);
    if (spec.criterion === 'taylor') calibrationHolder.batch = calibrationBatch(data, 256, spec.seed);
    stage(ctx, 'sensitivity', `${subset.count} validation samples, ratios ${spec.ratios.join(', ')}`);
    const result = await analyzeSensitivity(
      loaded.model,
      (m) => accuracyOn(m, subset, data, spec.batchSize),
      {
        criterion: spec.criterion,
        ratios: spec.ratios,
        seed: spec.seed,
        ...(calibrationHolder.batch ? { calibration: calibrationHolder.batch } : {}),
        onProgress: (done, total) => {
          ctx.throwIfCancelled();
          ctx.emit({ type: 'progress', stage: 'sensitivity', done, total });
        },
      },
    );
    const json = await writeSensitivityFiles(spec.out, result);
    return {
      kind: 'sensitivity',
      backend: ctx.backend.used,
      runDir: spec.out,
      samples: subset.count,
      files: { json, csv: path.join(spec.out, 'sensitivity.csv') },
      ...result,
    };
  } finally {
    calibrationHolder.batch?.x.dispose();
    loaded.model.dispose();
  }
}
