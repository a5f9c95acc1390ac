/**
 * The per-step bookkeeping on a training step's gradients, on the wasm backend, for each
 * built-in architecture's trainable variables: as tfjs kernels composed per variable (what the
 * training step ran before backend/gradient-bookkeeping.ts) against Pollard's one-kernel forms.
 *
 *   npx tsx bench/gradient-bookkeeping.bench.ts [--rounds R]
 *
 * Columns (milliseconds a step, median of R rounds of 50 repetitions):
 * - probe: the NaN/Inf check of the gradients, on every step (one thread and every replica):
 *   Σ sum(g·0) against PollardNonFiniteProbe.
 * - rank 0 on 2 replicas: what the job thread does with the gradients before the optimizer
 *   while the replica waits. Before: its own slice's gradients scaled to sums (a Mul a
 *   variable), the probe, the replica's gradients uploaded and added (a tensor and an Add a
 *   variable) and the sums divided by the batch size (a Div a variable). After: the probe and
 *   PollardAddParts (the loss is scaled instead, so no Mul or Div is left).
 */
import { parseArgs } from 'node:util';
import { addParts, finiteProbe } from '../src/main/engine/backend/gradient-bookkeeping';
import { registerWasmBackend } from '../src/main/engine/backend/wasm-backend';
import { buildArchitecture } from '../src/main/engine/model/architectures/index';
import { ARCHITECTURES } from '../src/shared/jobs';
import { BENCH_SHAPES } from './training-speed.bench';
import { tf } from '../src/main/engine/tf';

const REPEATS = 50;
const BATCH = 64;

function msPerCall(f: () => tf.Tensor[]): number {
  const start = performance.now();
  for (let k = 0; k < REPEATS; k++) {
    tf.tidy(() => {
      // Reading the first result waits for every kernel before it.
      f()[0]!.dataSync();
    });
  }
  return (performance.now() - start) / REPEATS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const rounds = Number(values.rounds ?? 7);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds: expected a positive integer, got "${values.rounds}"`);

await registerWasmBackend();
if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');

console.log(
  '| arch | variables | values | probe before | probe after | rank 0 on 2 replicas before | after |',
);
console.log('|---|---|---|---|---|---|---|');
for (const arch of ARCHITECTURES) {
  const model = buildArchitecture(arch, BENCH_SHAPES[arch], 10);
  const grads = model.trainableWeights.map((w) => tf.randomNormal(w.shape as number[], 0, 1, 'float32', 7));
  const total = grads.reduce((sum, g) => sum + g.size, 0);
  const part = new Float32Array(new SharedArrayBuffer(total * 4)).fill(0.5);
  const composedProbe = (gs: tf.Tensor[]) => tf.addN(gs.map((g) => tf.sum(tf.mul(g, 0))));
  const variants: Record<string, () => tf.Tensor[]> = {
    probeBefore: () => [composedProbe(grads)],
    probeAfter: () => [finiteProbe(grads)],
    rank0Before: () => {
      const sums = grads.map((g) => tf.mul(g, BATCH / 2));
      const probe = composedProbe(sums);
      let offset = 0;
      const added = sums.map((sum) => {
        const values = tf.tensor(part.subarray(offset, offset + sum.size), sum.shape);
        offset += sum.size;
        return tf.add(sum, values);
      });
      return [probe, ...added.map((sum) => tf.div(sum, BATCH))];
    },
    rank0After: () => [finiteProbe(grads), ...addParts(grads, [part])],
  };
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= rounds; round++) {
    for (const [name, f] of Object.entries(variants)) {
      const ms = msPerCall(f);
      // Round 0 warms up.
      if (round > 0) (times[name] ??= []).push(ms);
    }
  }
  const cell = (name: string) => median(times[name]!).toFixed(2);
  console.log(
    `| ${arch} | ${grads.length} | ${total.toLocaleString('en-US')} | ${cell('probeBefore')} | ${cell('probeAfter')} | ${cell('rank0Before')} | ${cell('rank0After')} |`,
  );
  tf.dispose(grads);
  model.dispose();
}
