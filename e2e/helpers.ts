/** Files and checks the specs share: the bundled sample, a model with markup in its names, the CLI. */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { ROOT } from './fixtures';
import type { FileBytes } from './pages/dataset-page';

export const SAMPLE_DIR = path.join(ROOT, 'resources/samples/fashion-mnist-small');
export const SAMPLE_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
].map((name) => path.join(SAMPLE_DIR, name));

export function sampleBytes(): FileBytes[] {
  return SAMPLE_FILES.map((file) => ({ name: path.basename(file), bytes: readFileSync(file) }));
}

/** The item count in an IDX file's header (big-endian uint32 after the magic number). */
export function idxCount(file: string): number {
  return gunzipSync(readFileSync(file)).readUInt32BE(4);
}

export const MARKUP_LAYER = '<img src=x onerror="window.__pollardXss=1">';
export const MARKUP_MODEL = '<script>window.__pollardXss=2</script>';
export const MARKUP_CLASS = '<img src=x onerror=window.__pollardXss=3>';

/** A TensorFlow.js model folder (Flatten → Dense) with the given model and Dense layer names. */
export function writeTfjsModel(dir: string, names: { model: string; dense: string }): string[] {
  mkdirSync(dir, { recursive: true });
  const topology = {
    class_name: 'Sequential',
    config: {
      name: names.model,
      layers: [
        {
          class_name: 'Flatten',
          config: {
            name: 'flatten',
            batch_input_shape: [null, 28, 28, 1],
            dtype: 'float32',
            trainable: true,
          },
        },
        {
          class_name: 'Dense',
          config: {
            name: names.dense,
            units: 10,
            activation: 'softmax',
            use_bias: true,
            dtype: 'float32',
            trainable: true,
          },
        },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const weights = new Float32Array(784 * 10 + 10);
  for (let i = 0; i < weights.length; i++) weights[i] = ((i * 7919) % 200) / 10_000 - 0.01;
  const manifest = {
    format: 'layers-model',
    generatedBy: 'pollard e2e',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: `${names.dense}/kernel`, shape: [784, 10], dtype: 'float32' },
          { name: `${names.dense}/bias`, shape: [10], dtype: 'float32' },
        ],
      },
    ],
  };
  const files = [path.join(dir, 'model.json'), path.join(dir, 'weights.bin')];
  writeFileSync(files[0]!, JSON.stringify(manifest));
  writeFileSync(files[1]!, Buffer.from(weights.buffer));
  return files;
}

/** An image-folder dataset: two class folders of 8×8 grey PNGs, one of them named `className`. */
export async function writeImageFolder(root: string, className: string): Promise<void> {
  for (const [index, name] of [className, 'plain'].entries()) {
    mkdirSync(path.join(root, name), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const pixels = Buffer.alloc(64, (index * 3 + i) * 30);
      await sharp(pixels, { raw: { width: 8, height: 8, channels: 1 } })
        .png()
        .toFile(path.join(root, name, `${i}.png`));
    }
  }
}

type Json = Record<string, unknown>;

/** The report's comparison ids, as the Results screen's keys; `scale` turns the report's unit into the screen's. */
const REPORT_ROWS: Record<string, { key: string; scale: number }> = {
  accuracy: { key: 'accuracy', scale: 100 }, // the report says %, the screen keeps 0..1
  params: { key: 'params', scale: 1 },
  macs: { key: 'macs', scale: 1 },
  size: { key: 'sizeBytes', scale: 1 },
  sizeGzip: { key: 'sizeGzipBytes', scale: 1 },
  latencyBatch1: { key: 'latencyBatch1Ms', scale: 1 },
  latencyBatch32: { key: 'latencyBatch32Ms', scale: 1 },
  'energy:inference-gross': { key: 'inferenceEnergy', scale: 1 },
  'energy:training-per-epoch': { key: 'trainingEnergy', scale: 1 },
  'energy:op-count': { key: 'opCountEnergy', scale: 1 },
};

/**
 * Before/after numbers from an exported JSON report, keyed like the Results screen: the
 * engine's report (`comparison` rows), or a report that carries the run's result
 * (`before`/`after` records).
 */
export function reportedFigures(report: unknown): Record<string, [number | null, number | null]> {
  const figures: Record<string, [number | null, number | null]> = {};
  const value = (v: unknown, scale: number): number | null => (typeof v === 'number' ? v / scale : null);
  const rows = (report as Json | null)?.comparison;
  if (Array.isArray(rows)) {
    for (const row of rows as Json[]) {
      const mapped = REPORT_ROWS[String(row.id)];
      if (mapped) figures[mapped.key] = [value(row.before, mapped.scale), value(row.after, mapped.scale)];
    }
    return figures;
  }
  const found = findComparison(report);
  if (!found) return figures;
  for (const key of ['accuracy', 'params', 'macs', 'sizeBytes', 'sizeGzipBytes'])
    figures[key] = [value(found.before[key], 1), value(found.after[key], 1)];
  const latency = (side: Json, key: string): unknown => (side.latencyMs as Json | undefined)?.[key];
  figures.latencyBatch1Ms = [
    value(latency(found.before, 'batch1'), 1),
    value(latency(found.after, 'batch1'), 1),
  ];
  figures.latencyBatch32Ms = [
    value(latency(found.before, 'batch32'), 1),
    value(latency(found.after, 'batch32'), 1),
  ];
  return figures;
}

/** The first object in `value` with `before` and `after` records holding `params`. */
function findComparison(value: unknown): { before: Json; after: Json } | null {
  if (value === null || typeof value !== 'object') return null;
  const record = value as Json;
  const before = record.before;
  const after = record.after;
  if (before && after && typeof before === 'object' && typeof after === 'object' && 'params' in before)
    return { before: before as Json, after: after as Json };
  for (const child of Object.values(record)) {
    const found = findComparison(child);
    if (found) return found;
  }
  return null;
}

/** `pollard inspect --model M --json`: the model reloaded by Pollard itself. */
export async function pollardInspect(model: string): Promise<Json> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(ROOT, 'bin/pollard.mjs'), 'inspect', '--model', model, '--json'],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Json;
}
