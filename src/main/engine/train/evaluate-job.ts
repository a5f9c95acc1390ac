/** `evaluate` job: a model on a dataset's test split (or its training split when there is none). */
import { modelNormalization } from '../data/input-scaling';
import { requireSingleInputOutput } from '../model/single-io';
import type { SpecOf } from '../../../shared/jobs';
import type { EvaluationResult } from '../../../shared/types';
import { badInput } from '../../../shared/errors';
import { DEFAULT_NORMALIZATION, openDataset } from '../data';
import type { JobContext } from '../job/context';
import { measureModelFiles } from '../model/model-files';
import { openModel } from '../model/registry';
import { summarizeModel } from '../model/summary';
import { evaluateModel } from './evaluate';

export interface EvaluateResult extends EvaluationResult {
  kind: 'evaluate';
  backend: string;
  device: string;
  runDir: null;
  model: string;
  data: string;
  split: 'test' | 'train';
  params: number;
  macs: number;
  sizeBytes: number;
  sizeGzipBytes: number;
}

export async function runEvaluateJob(spec: SpecOf<'evaluate'>, ctx: JobContext): Promise<EvaluateResult> {
  ctx.emit({ type: 'stage', stage: 'open model', detail: spec.model });
  const loaded = await openModel(spec.model);
  try {
    requireSingleInputOutput(loaded.model, spec.model);
    ctx.emit({ type: 'stage', stage: 'open dataset', detail: spec.data });
    const dataset = await openDataset(spec.data, spec.limit !== undefined ? { limit: spec.limit } : {});
    const input = loaded.model.inputs[0]?.shape.slice(1) ?? [];
    const [h, w, c] = dataset.shape;
    if (input.length !== 3 || input[0] !== h || input[1] !== w || input[2] !== c) {
      throw badInput(
        spec.data,
        `the dataset's images are ${h}×${w}×${c} but the model expects [${input.map(String).join(', ')}]`,
      );
    }
    const classes = dataset.classNames.length;
    const output = loaded.model.outputs[0]?.shape ?? [];
    if (output[output.length - 1] !== classes) {
      throw badInput(
        spec.data,
        `the dataset has ${classes} classes but the model has ${String(output[output.length - 1])} outputs`,
      );
    }
    const split = dataset.test && dataset.test.count > 0 ? 'test' : 'train';
    const samples = split === 'test' ? dataset.test! : dataset.train;
    ctx.emit({ type: 'stage', stage: 'evaluate', detail: `${samples.count} ${split} samples` });
    const evaluation = await evaluateModel(
      loaded.model,
      samples,
      dataset.shape,
      classes,
      {
        batchSize: spec.batchSize,
        normalization:
          modelNormalization(spec.inputScaling, loaded.metadata.normalization).normalization ??
          DEFAULT_NORMALIZATION,
        classNames: loaded.metadata.classNames ?? dataset.classNames,
        stage: 'evaluate',
      },
      ctx,
    );
    const sizes = await measureModelFiles(loaded.files);
    const summary = summarizeModel(loaded, { sizes });
    return {
      kind: 'evaluate',
      backend: ctx.backend.used,
      device: ctx.backend.device,
      runDir: null,
      model: spec.model,
      data: spec.data,
      split,
      ...evaluation,
      params: summary.params,
      macs: summary.macs,
      sizeBytes: sizes.bytes,
      sizeGzipBytes: sizes.gzipBytes,
    };
  } finally {
    loaded.model.dispose();
  }
}
