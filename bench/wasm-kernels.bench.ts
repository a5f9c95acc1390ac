/**
 * Training throughput of a LeNet-5-style CNN on the wasm backend (with Pollard's training
 * kernels) against the pure-JavaScript cpu backend, batch 64 on 28×28×1 inputs.
 *
 *   npx tsx bench/wasm-kernels.bench.ts [--steps N] [--rounds N] [--cpu-steps N] [--profile]
 *
 * One train step is a plain `tf.variableGrads` of softmax cross-entropy plus an Adam update.
 * wasm runs `rounds` timed rounds of `steps` steps, cpu one round of `cpu-steps`. The table
 * gives samples per wall-clock second (median and best round) and per second of CPU time,
 * which stays meaningful when other work shares the machine. `--profile` prints the wasm
 * kernels that take most time in a step.
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

interface Rates {
  /** Samples per wall-clock second of each timed round, ascending. */
  wall: number[];
  /** Samples per second of this process's CPU time (all its threads) over all rounds. */
  cpuTime: number;
}

/**
 * Both backends compute on one thread, so on a shared machine the CPU-time rate is close to
 * what an idle machine would give, while the wall-clock rate is what this run got.
 */
async function samplesPerSecond(
  backend: string,
  warmup: number,
  steps: number,
  rounds: number,
): Promise<Rates> {
  await tf.setBackend(backend);
  const trainer = makeTrainer();
  for (let i = 0; i < warmup; i++) trainer.step();
  const wall: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < steps; i++) trainer.step();
    wall.push((steps * BATCH) / ((performance.now() - start) / 1000));
  }
  const used = process.cpuUsage(cpuStart);
  trainer.dispose();
  return {
    wall: wall.sort((a, b) => a - b),
    cpuTime: (rounds * steps * BATCH) / ((used.user + used.system) / 1e6),
  };
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
  const loadBefore = os.loadavg()[0] ?? 0;
  const wasm = await samplesPerSecond('wasm', 3, Number(values.steps), Number(values.rounds));
  const cpu = await samplesPerSecond('cpu', 1, Number(values['cpu-steps']), 1);
  const best = (rates: Rates) => rates.wall[rates.wall.length - 1] as number;
  const cell = (value: number, digits: number, width: number) => value.toFixed(digits).padStart(width);
  console.log(`LeNet-5 train step (variableGrads + Adam), batch ${BATCH}, 28×28×1`);
  console.log(
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ` +
      `load average ${loadBefore.toFixed(1)} → ${(os.loadavg()[0] ?? 0).toFixed(1)}, Node ${process.version}`,
  );
  console.log('samples/s     wall median   wall best   per CPU-second');
  for (const [name, rates, digits] of [
    ['wasm', wasm, 0],
    ['cpu', cpu, 1],
  ] as const) {
    console.log(
      `${name.padEnd(10)}${cell(median(rates.wall), digits, 14)}${cell(best(rates), digits, 12)}${cell(rates.cpuTime, digits, 17)}`,
    );
  }
  console.log(
    `${'wasm / cpu'.padEnd(10)}${cell(median(wasm.wall) / median(cpu.wall), 0, 13)}×` +
      `${cell(best(wasm) / best(cpu), 0, 11)}×${cell(wasm.cpuTime / cpu.cpuTime, 0, 16)}×`,
  );
  if (values.profile) await profileWasmStep();
}

await main();
