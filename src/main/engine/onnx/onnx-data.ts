/**
 * Dataset samples for ONNX models: pixels as float32 in the model's layout, the calibration
 * batches for int8, and top-1 accuracy of several ONNX sessions on one split, batch by batch.
 */
import { normalizationTables, sourceChannel } from '../data/input-scaling';
import type { DatasetSplit, Normalization } from '../data';
import type { CalibrationBatch } from './calibrate';
import type { OnnxLayout } from './layers-to-onnx';
import type { OnnxSession } from './ort-session';

export const EVAL_BATCH = 64;

/** Samples of a split as float32 (x = pixel / 255 · scale + offset), NCHW or NHWC. */
export function samplesAsFloat(
  split: DatasetSplit,
  shape: readonly [number, number, number],
  indices: readonly number[],
  normalization: Normalization,
  layout: OnnxLayout,
): Float32Array {
  const [h, w, c] = shape;
  const size = h * w * c;
  const out = new Float32Array(indices.length * size);
  const tables = normalizationTables(normalization, c);
  const from = Array.from({ length: c }, (_, ch) => sourceChannel(normalization, ch, c));
  indices.forEach((sample, n) => {
    const src = sample * size;
    const dst = n * size;
    for (let p = 0; p < h * w; p++) {
      for (let ch = 0; ch < c; ch++) {
        const value = tables[ch]![split.images[src + p * c + from[ch]!]!]!;
        out[layout === 'nhwc' ? dst + p * c + ch : dst + ch * h * w + p] = value;
      }
    }
  });
  return out;
}

/**
 * `count` training samples evenly spaced over the split (so every part of it, and every class,
 * is seen), in batches of EVAL_BATCH.
 */
export function calibrationBatches(
  split: DatasetSplit,
  shape: readonly [number, number, number],
  count: number,
  normalization: Normalization,
  layout: OnnxLayout,
  inputShape: readonly number[],
): CalibrationBatch[] {
  const n = Math.min(count, split.count);
  const indices = Array.from({ length: n }, (_, i) => Math.floor((i * split.count) / n));
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const slice = indices.slice(start, start + EVAL_BATCH);
    batches.push({
      data: samplesAsFloat(split, shape, slice, normalization, layout),
      dims: [slice.length, ...inputShape],
    });
  }
  return batches;
}

function argmax(logits: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) {
    if (logits[row * classes + k]! > logits[row * classes + best]!) best = k;
  }
  return best;
}

export interface OnnxAccuracy {
  /** Top-1 (0..1) of each session, in the order given. */
  accuracy: number[];
  /** Fraction of samples where every session predicts the same class. */
  agreement: number;
}

/** Top-1 accuracy of each session on the whole split (one pass, the sessions fed the same batches). */
export async function onnxAccuracy(
  sessions: readonly OnnxSession[],
  split: DatasetSplit,
  shape: readonly [number, number, number],
  normalization: Normalization,
  layout: OnnxLayout,
  inputShape: readonly number[],
  classes: number,
): Promise<OnnxAccuracy> {
  const hits = sessions.map(() => 0);
  let agree = 0;
  for (let start = 0; start < split.count; start += EVAL_BATCH) {
    const size = Math.min(EVAL_BATCH, split.count - start);
    const slice = Array.from({ length: size }, (_, i) => start + i);
    const data = samplesAsFloat(split, shape, slice, normalization, layout);
    const dims = [size, ...inputShape];
    const logits: Float32Array[] = [];
    for (const session of sessions) logits.push((await session.run(data, dims))[0]!);
    for (let n = 0; n < size; n++) {
      const predicted = logits.map((l) => argmax(l, n, classes));
      predicted.forEach((p, i) => {
        if (p === split.labels[start + n]) hits[i]! += 1;
      });
      if (predicted.every((p) => p === predicted[0])) agree++;
    }
  }
  const count = Math.max(split.count, 1);
  return { accuracy: hits.map((h) => h / count), agreement: agree / count };
}
