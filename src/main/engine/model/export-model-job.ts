/**
 * `export-model` job: write a model in another format, so a compressed model can go back into a
 * Python workflow (Keras 2 .h5), to any TensorFlow.js runtime (tfjs layers, optionally with
 * uint8/uint16/float16 weights) or to ONNX runtimes (float32, or int8 QDQ; onnx/export-onnx.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError } from '../../../shared/errors';
import { QUANT_DTYPES, type SpecOf } from '../../../shared/jobs';
import type { JobContext } from '../job/context';
import { checkExportOptions, exportOnnx } from '../onnx/export-onnx';
import type { OnnxExportSummary } from '../onnx/export-onnx';
import { saveKerasH5 } from './keras/export-h5';
import { openModel } from './registry';
import { saveModel } from './tfjs-layers-writer';
import type { WeightQuantization } from './weight-quantization';

export interface ExportModelResult {
  kind: 'export-model';
  backend: string;
  format: 'tfjs' | 'keras-h5' | 'onnx';
  files: { path: string; bytes: number }[];
  /** ONNX only: verification against TensorFlow.js and, for int8, accuracy and latency. */
  onnx?: OnnxExportSummary;
}

async function isDirectory(target: string): Promise<boolean> {
  return (await fs.stat(target).catch(() => undefined))?.isDirectory() ?? false;
}

/** tfjs weights: as asked, or else the model's own stored type (a uint8 run stays uint8); float32 undoes it. */
export function tfjsQuantization(
  spec: SpecOf<'export-model'>,
  stored: string[],
): { quantize?: WeightQuantization } {
  const own = stored.find((dtype): dtype is WeightQuantization =>
    (QUANT_DTYPES as readonly string[]).includes(dtype),
  );
  const asked = spec.quantize ?? own;
  return asked === undefined || asked === 'int8' || asked === 'float32' ? {} : { quantize: asked };
}

export async function runExportModelJob(
  spec: SpecOf<'export-model'>,
  ctx: JobContext,
): Promise<ExportModelResult> {
  checkExportOptions(spec);
  ctx.emit({ type: 'stage', stage: 'open model', detail: spec.model });
  const loaded = await openModel(spec.model);
  try {
    ctx.emit({ type: 'stage', stage: `write ${spec.format}`, detail: spec.to });
    let written: string[];
    let onnx: OnnxExportSummary | undefined;
    if (spec.format === 'onnx') {
      const exported = await exportOnnx(loaded, spec, ctx);
      written = [exported.file];
      onnx = exported.onnx;
    } else if (spec.format === 'keras-h5') {
      const file =
        (await isDirectory(spec.to)) || !/\.(h5|hdf5)$/i.test(spec.to)
          ? path.join(spec.to, 'model.h5')
          : spec.to;
      await fs.mkdir(path.dirname(file), { recursive: true });
      await saveKerasH5(loaded.model, file);
      written = [file];
    } else {
      // The folder is replaced as a whole, so never point it at a folder holding other things.
      const entries = await fs.readdir(spec.to).catch(() => [] as string[]);
      if (entries.length > 0 && !entries.includes('model.json')) {
        throw usageError(
          `${spec.to}: the folder is not empty and holds no model; choose a new or empty folder`,
        );
      }
      const saved = await saveModel(loaded.model, spec.to, {
        metadata: loaded.metadata,
        ...tfjsQuantization(spec, loaded.weightDtypes),
      });
      written = saved.files;
    }
    const files = await Promise.all(
      written.map(async (file) => ({ path: file, bytes: (await fs.stat(file)).size })),
    );
    return {
      kind: 'export-model',
      backend: ctx.backend.used,
      format: spec.format,
      files,
      ...(onnx ? { onnx } : {}),
    };
  } finally {
    loaded.model.dispose();
  }
}
