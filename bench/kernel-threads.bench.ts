/**
 * The native kernels on one and two kernel threads (backend/ort-helpers.ts: a kernel's batch cut
 * in two, one part on a helper thread), against XNNPACK (tfjs-backend-wasm's own kernels), for
 * the shapes of LeNet's training step and the first layers and 1×1 convolutions of the others,
 * then LeNet training on one replica with one and with two kernel threads, alternated in one
 * process (as `--threads 1` and `--threads 2` train it).
 *
 *   npx tsx bench/kernel-threads.bench.ts [--rounds R] [--steps S]
 *
 * Kernel columns: milliseconds a call, the median of 60 calls, each reading its output back; the
 * three forms alternate R times (default 3) and each cell is the median of those medians.
 * Training: samples/s over S steps (default 400) at batch 64, R rounds each way.
 */
import { parseArgs } from 'node:util';
import { MIN_NATIVE_MACS, setNativeKernelMinMacs } from '../src/main/engine/backend/native-conv';
import { helpersStarted, kernelParts } from '../src/main/engine/backend/ort-helpers';
import { setComputeThreads, setKernelThreads } from '../src/main/engine/backend/threads';
import { registerWasmBackend } from '../src/main/engine/backend/wasm-backend';
import { gatherSplit, openDataset } from '../src/main/engine/data';
import { createMemoryContext } from '../src/main/engine/job/context';
import { buildArchitecture } from '../src/main/engine/model/architectures/index';
import { trainModel } from '../src/main/engine/train/loop';
import { tf } from '../src/main/engine/tf';
import { trainingOptionsSchema } from '../src/shared/jobs';
import { SAMPLE } from './training-speed.bench';

type Shape4 = [number, number, number, number];

interface KernelCase {
  name: string;
  run(inputs: Record<string, tf.Tensor>): tf.Tensor;
  inputs: Record<string, number[]>;
}

const conv = (name: string, x: Shape4, w: Shape4, stride: number, pad: 'same' | 'valid'): KernelCase[] => {
  const y = tf.tidy(
    () => tf.conv2d(tf.zeros(x) as tf.Tensor4D, tf.zeros(w) as tf.Tensor4D, stride, pad).shape,
  );
  const attrs = { strides: stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  return [
    {
      name: `${name} forward`,
      inputs: { x, w },
      run: (t) => tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, stride, pad),
    },
    {
      name: `${name} dx`,
      inputs: { dy: y, w },
      run: (t) =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: t.dy!, filter: t.w! }, {
          ...attrs,
          inputShape: x,
        } as never) as tf.Tensor,
    },
    {
      name: `${name} dW`,
      inputs: { x, dy: y },
      run: (t) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: t.x!, dy: t.dy! }, {
          ...attrs,
          filterShape: w,
        } as never) as tf.Tensor,
    },
  ];
};

const CASES: KernelCase[] = [
  ...conv('LeNet conv 1, 64×28×28×1 → 6, 5×5', [64, 28, 28, 1], [5, 5, 1, 6], 1, 'same').filter(
    (c) => !c.name.endsWith(' dx'),
  ),
  ...conv('LeNet conv 2, 64×14×14×6 → 16, 5×5', [64, 14, 14, 6], [5, 5, 6, 16], 1, 'valid'),
  ...conv('VGG-small conv 1, 64×28×28×1 → 32, 3×3', [64, 28, 28, 1], [3, 3, 1, 32], 1, 'same').slice(0, 1),
  ...conv('ResNet-20 stem, 64×32×32×3 → 16, 3×3', [64, 32, 32, 3], [3, 3, 3, 16], 1, 'same').slice(0, 1),
  ...conv('1×1, 64×16×16×32 → 64', [64, 16, 16, 32], [1, 1, 32, 64], 1, 'same').slice(0, 2),
  ...conv('1×1 stride 2, 64×16×16×32 → 64', [64, 16, 16, 32], [1, 1, 32, 64], 2, 'same').slice(0, 2),
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function msPerCall(c: KernelCase, inputs: Record<string, tf.Tensor>): number {
  const once = (): number => {
    const start = performance.now();
    tf.tidy(() => void c.run(inputs).dataSync());
    return performance.now() - start;
  };
  for (let i = 0; i < 5; i++) once();
  return median(Array.from({ length: 60 }, once));
}

const { values } = parseArgs({ options: { rounds: { type: 'string' }, steps: { type: 'string' } } });
const rounds = Number(values.rounds ?? 3);
const steps = Number(values.steps ?? 400);
for (const [flag, n] of [
  ['--rounds', rounds],
  ['--steps', steps],
] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got "${n}"`);
}

setComputeThreads(2);
await registerWasmBackend();
if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');

/** XNNPACK (no native kernel), ORT on this thread, ORT cut across two kernel threads. */
async function use(form: 'xnnpack' | 'ort' | 'ort ×2'): Promise<void> {
  setNativeKernelMinMacs(form === 'xnnpack' ? Number.POSITIVE_INFINITY : MIN_NATIVE_MACS);
  setKernelThreads(form === 'ort ×2' ? 2 : 1);
  await helpersStarted();
  if (form === 'ort ×2' && kernelParts() !== 2) throw new Error('the kernel helper thread did not start');
}

console.log('| kernel | XNNPACK | ORT, 1 thread | ORT, 2 kernel threads |');
console.log('|---|---:|---:|---:|');
for (const c of CASES) {
  const inputs = Object.fromEntries(
    Object.entries(c.inputs).map(([name, shape], i) => [
      name,
      tf.randomNormal(shape, 0, 1, 'float32', i + 1),
    ]),
  );
  const times: Record<string, number[]> = { xnnpack: [], ort: [], 'ort ×2': [] };
  for (let r = 0; r < rounds; r++) {
    for (const form of ['xnnpack', 'ort', 'ort ×2'] as const) {
      await use(form);
      times[form]!.push(msPerCall(c, inputs));
    }
  }
  const cell = (form: string) => `${median(times[form]!).toFixed(2)} ms`;
  console.log(`| ${c.name} | ${cell('xnnpack')} | ${cell('ort')} | ${cell('ort ×2')} |`);
  tf.dispose(Object.values(inputs));
}
setNativeKernelMinMacs(MIN_NATIVE_MACS);

// LeNet training, one replica, one and two kernel threads alternated.
const dataset = await openDataset(SAMPLE);
const batch = 64;
const take = (offset: number) =>
  gatherSplit(
    dataset.train,
    Array.from({ length: steps * batch }, (_, i) => (offset + i) % dataset.train.count),
  );
const model = buildArchitecture('lenet', [28, 28, 1], 10, 1);
const ctx = createMemoryContext({ used: 'wasm', device: 'WebAssembly', rungs: [] });
const training = trainingOptionsSchema.parse({ epochs: 1, validationSplit: 0 });
const rate = async (threads: number, seed: number): Promise<number> => {
  const outcome = await trainModel(
    model,
    { train: take(seed * batch), shape: [28, 28, 1], classes: 10 },
    { training, batchSize: batch, seed, epochs: 1, threads },
    ctx,
  );
  return outcome.samplesPerSecond;
};
await rate(2, 1);
await rate(1, 2);
const rates: Record<number, number[]> = { 1: [], 2: [] };
for (let r = 0; r < 2 * rounds; r++) {
  const threads = r % 2 === 0 ? 1 : 2;
  rates[threads]!.push(await rate(threads, 3 + r));
}
model.dispose();
const one = median(rates[1]!);
const two = median(rates[2]!);
console.log('');
console.log('| LeNet training, samples/s | 1 kernel thread | 2 kernel threads | 2 / 1 |');
console.log('|---|---:|---:|---:|');
console.log(
  `| median of ${rounds} (${rates[1]!.map(Math.round).join(', ')} / ${rates[2]!.map(Math.round).join(', ')}) | ${Math.round(one)} | ${Math.round(two)} | ${(two / one).toFixed(2)}× |`,
);
