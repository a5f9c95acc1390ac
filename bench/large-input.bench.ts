/**
 * A model of real size: a Darknet-tiny-style 224×224×3 classifier (six 3×3 conv + BN + leaky
 * ReLU blocks, 16 → 512 filters, max pooling, a 1×1 classifier conv and global pooling) fine-tuned
 * through the real training loop at the default batch size (64). Before Pollard planned memory,
 * this aborted WebAssembly ("Aborted(). Build with -sASSERTIONS …"). It prints what the loop chose
 * (replicas, micro-batch), the memory estimate, the wasm heap and the peak RSS, and samples/s.
 *
 *   npx tsx bench/large-input.bench.ts [--batch 64] [--threads N] [--steps 2]
 */
import { parseArgs } from 'node:util';
import type { DatasetSplit } from '../src/main/engine/data/types';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '64' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '2' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);

const { initBackend } = await import('../src/main/engine/backend/ladder');
const { computeThreads } = await import('../src/main/engine/backend/threads');
const { tf, tfl } = await import('../src/main/engine/tf');
const { trainModel } = await import('../src/main/engine/train/loop');
const { estimateTrainingMemory } = await import('../src/main/engine/train/memory-estimate');
const { summarizeModel } = await import('../src/main/engine/model/summary');
const { createMemoryContext } = await import('../src/main/engine/job/context');
const { trainingOptionsSchema } = await import('../src/shared/jobs');

const report = await initBackend('wasm');
const threads = values.threads === undefined ? computeThreads() : Number(values.threads);
const shape: [number, number, number] = [224, 224, 3];
const layers = tfl.layers;
type AnyLayer = Parameters<ReturnType<typeof tfl.sequential>['add']>[0];
const stack: AnyLayer[] = [];
const filters = [16, 32, 64, 128, 256, 512];
filters.forEach((count, i) => {
  stack.push(
    layers.conv2d({
      ...(i === 0 ? { inputShape: shape } : {}),
      filters: count,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: tfl.initializers.heNormal({ seed: i + 1 }),
    }),
    layers.batchNormalization(),
    layers.leakyReLU({ alpha: 0.1 }),
  );
  if (i < filters.length - 1) stack.push(layers.maxPooling2d({ poolSize: 2, strides: 2 }));
});
stack.push(
  layers.conv2d({ filters: 10, kernelSize: 1 }),
  layers.globalAveragePooling2d({}),
  layers.softmax(),
);
const model = tfl.sequential({ name: 'darknet_tiny_224', layers: stack });
const summary = summarizeModel(model);
const estimate = estimateTrainingMemory(model);

const count = batch * steps;
const pixels = shape[0] * shape[1] * shape[2];
const images = new Uint8Array(count * pixels);
for (let i = 0; i < images.length; i++) images[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
const labels = new Uint8Array(count).map((_, i) => i % 10);
const train: DatasetSplit = { images, labels, count };

const ctx = createMemoryContext(report);
const started = performance.now();
let outcome: Awaited<ReturnType<typeof trainModel>> | undefined;
let failure: string | undefined;
try {
  outcome = await trainModel(
    model,
    { train, shape, classes: 10 },
    {
      training: trainingOptionsSchema.parse({ epochs: 1, validationSplit: 0 }),
      batchSize: batch,
      seed: 1,
      threads,
    },
    ctx,
  );
} catch (error) {
  failure = error instanceof Error ? error.message : String(error);
}
const seconds = (performance.now() - started) / 1000;
const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
const mib = (bytes: number): string => `${Math.round(bytes / 1024 ** 2).toLocaleString('en-US')} MiB`;

const rows: [string, string][] = [
  [
    'model',
    `${model.name}: ${summary.params.toLocaleString('en-US')} parameters, ${(summary.macs / 1e9).toFixed(2)} G MACs a sample`,
  ],
  ['backend', `${report.used}: ${report.device}`],
  ['batch', `${batch} × ${steps} steps`],
  [
    'estimate',
    `${mib(estimate.fixedBytes)} fixed + ${mib(estimate.perSampleBytes)} a sample = ${mib(estimate.fixedBytes + estimate.perSampleBytes * batch)} for the whole batch`,
  ],
  [
    'chosen',
    outcome
      ? `${outcome.parallelism.replicas} replica(s), micro-batches of ${outcome.parallelism.microBatch} (slice ${outcome.parallelism.sliceSize})`
      : '—',
  ],
  ['result', failure ? `FAILED: ${failure}` : `trained, loss ${outcome!.history[0]!.loss.toFixed(4)}`],
  ['samples/s', outcome ? outcome.samplesPerSecond.toFixed(2) : '—'],
  ['wall', `${seconds.toFixed(1)} s (replica start-up included)`],
  ['wasm heap (rank 0)', mib(heap)],
  ['peak RSS', mib(process.resourceUsage().maxRSS * 1024)],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`| ${'what'.padEnd(width)} | value |\n|${'-'.repeat(width + 2)}|-------|`);
for (const [key, value] of rows) console.log(`| ${key.padEnd(width)} | ${value} |`);
model.dispose();
process.exit(failure ? 1 : 0);
