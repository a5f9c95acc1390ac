/**
 * Training throughput of a LeNet-5-style CNN on the wasm backend (with Pollard's training
 * kernels) against the pure-JavaScript cpu backend, batch 64 on 28×28×1 inputs.
 *
 *   npx tsx bench/wasm-kernels.bench.ts [--steps N] [--rounds N] [--cpu-steps N] [--profile]
 *
 * One train step is a plain `tf.variableGrads` of softmax cross-entropy plus an Adam update.
 * wasm runs `rounds` timed rounds of `steps` steps and reports the median and the best round
 * (the machine may be shared; the best round is closest to what the code can do), cpu one
 * round of `cpu-steps`. `--profile` prints the wasm kernels that take most time in a step.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { tf, tfl } from '../src/main/engine/tf';
import { registerWasmBackend } from '../src/main/engine/backend/wasm-backend';

const BATCH = 64;

function buildLeNet(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 6,
        kernelSize: 5,
        padding: 'same',
        activation: 'relu',
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'valid', activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 120, activation: 'relu' }),
      tfl.layers.dense({ units: 84, activation: 'relu' }),
      // Softmax is folded into the loss (softmax cross-entropy on logits).
      tfl.layers.dense({ units: 10 }),
    ],
  });
}

interface Trainer {
  step: () => number;
  dispose: () => void;
}

function makeTrainer(): Trainer {
  const model = buildLeNet();
  const optimizer = tf.train.adam(1e-3);
  const xs = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 7);
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 8), 10);
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  return {
    step: () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const logits = model.apply(xs, { training: true }) as tf.Tensor;
          return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
        }, variables);
        // The gradients are keyed by variable name, which is what applyGradients reads.
        optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
        // Reading the loss waits for the step, as a real training loop does once per batch.
        return value.dataSync()[0] as number;
      }),
    dispose: () => {
      tf.dispose([xs, labels]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Samples per second of each timed round, after `warmup` untimed steps. */
async function samplesPerSecond(
  backend: string,
  warmup: number,
  steps: number,
  rounds: number,
): Promise<number[]> {
  await tf.setBackend(backend);
  const trainer = makeTrainer();
  for (let i = 0; i < warmup; i++) trainer.step();
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < steps; i++) trainer.step();
    rates.push((steps * BATCH) / ((performance.now() - start) / 1000));
  }
  trainer.dispose();
  return rates.sort((a, b) => a - b);
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function profileWasmStep(): Promise<void> {
  await tf.setBackend('wasm');
  const trainer = makeTrainer();
  trainer.step();
  const info = await tf.profile(() => {
    trainer.step();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const kernel of info.kernels) {
    const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    entry.ms += kernel.kernelTimeMs as number;
    entry.calls += 1;
    byKernel.set(kernel.name, entry);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, entry]) => sum + entry.ms, 0);
  console.log(
    `\nwasm kernels in one train step (${info.kernels.length} kernel calls, ${total.toFixed(1)} ms in kernels)`,
  );
  console.log('kernel                              calls      ms');
  for (const [name, entry] of rows.slice(0, 20)) {
    console.log(`${name.padEnd(34)} ${String(entry.calls).padStart(6)} ${entry.ms.toFixed(2).padStart(7)}`);
  }
  trainer.dispose();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '5' },
      'cpu-steps': { type: 'string', default: '2' },
      profile: { type: 'boolean', default: false },
    },
  });
  await registerWasmBackend();
  const wasm = await samplesPerSecond('wasm', 3, Number(values.steps), Number(values.rounds));
  const [cpu] = (await samplesPerSecond('cpu', 1, Number(values['cpu-steps']), 1)) as [number];
  const best = wasm[wasm.length - 1] as number;
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`LeNet-5 train step (variableGrads + Adam), batch ${BATCH}, 28×28×1`);
  console.log(
    `${cpuModel}, ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}, Node ${process.version}`,
  );
  console.log('backend   samples/s (median)   samples/s (best round)   vs cpu (median, best)');
  console.log(
    `wasm      ${median(wasm).toFixed(0).padStart(18)}   ${best.toFixed(0).padStart(22)}   ` +
      `${(median(wasm) / cpu).toFixed(0)}×, ${(best / cpu).toFixed(0)}×`,
  );
  console.log(`cpu       ${cpu.toFixed(1).padStart(18)}`);
  if (values.profile) await profileWasmStep();
}

await main();
