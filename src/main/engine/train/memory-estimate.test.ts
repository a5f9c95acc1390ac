/**
 * The training-memory estimate bounds what a real step takes from the WebAssembly heap, without
 * being so pessimistic that it splits batches that would fit. (Its own file: the heap only
 * grows, so it must be a fresh wasm instance — vitest runs each file in its own process.)
 */
import { expect, it } from 'vitest';
import { trainingOptionsSchema } from '../../../shared/jobs';
import { initBackend } from '../backend/ladder';
import { createMemoryContext } from '../job/context';
import { buildArchitecture } from '../model/architectures';
import { tf } from '../tf';
import { trainModel } from './loop';
import { estimateTrainingMemory, fitMicroBatch } from './memory-estimate';

function heapBytes(): number {
  return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
}

it('bounds the wasm heap growth of a VGG-small training step from above, within 2.25×', async () => {
  const report = await initBackend('wasm');
  const shape: [number, number, number] = [28, 28, 1];
  const model = buildArchitecture('vgg-small', shape, 10, 1);
  const batch = 32;
  const estimate = estimateTrainingMemory(model);
  // 436,650 parameters × 16 bytes; 4.2 MiB of layer outputs × 16 bytes per float, per sample.
  expect(estimate.fixedBytes).toBe(436_650 * 16);
  expect(Math.round(estimate.perSampleBytes / 1024)).toBe(4303);
  const images = new Uint8Array(batch * 784).map((_, i) => (i * 37) % 256);
  const labels = new Uint8Array(batch).map((_, i) => i % 10);
  const before = heapBytes();
  const outcome = await trainModel(
    model,
    { train: { images, labels, count: batch }, shape, classes: 10 },
    {
      training: trainingOptionsSchema.parse({ epochs: 1, validationSplit: 0 }),
      batchSize: batch,
      seed: 1,
      threads: 1,
    },
    createMemoryContext(report),
  );
  const growth = heapBytes() - before;
  const estimated = estimate.fixedBytes + estimate.perSampleBytes * batch;
  expect(outcome.parallelism.microBatch).toBe(batch);
  expect(growth).toBeGreaterThan(0);
  expect(growth).toBeLessThanOrEqual(estimated);
  // Within 2.25× from above: the factor was fitted when the wasm Identity still copied every
  // tensor the tape saves; it shares them now (growth 70.3 MB against 148 MB estimated), and the
  // estimate is kept on the safe side rather than refitted on this one architecture.
  expect(estimated).toBeLessThanOrEqual(2.25 * growth);
  // The default 1.5 GiB budget fits VGG-small's batch of 64 whole; 100 MiB splits it.
  expect(fitMicroBatch(model, 64, 1.5 * 1024 ** 3)).toBe(64);
  expect(fitMicroBatch(model, 64, 100 * 1024 ** 2)).toBe(22);
  model.dispose();
});
