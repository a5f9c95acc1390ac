/**
 * Pollard's WebAssembly SIMD kernels (src/main/engine/backend/simd/) against the paths they
 * replace, on the shapes of a real training step (batch 64), in one process: each case runs
 * alternately with the SIMD kernels on and off, and the table gives the median milliseconds of
 * each and their ratio (off ÷ on, higher is better). "Off" is what runs without them: Pollard's
 * JavaScript loops (batch norm, max-pool gradient, Adam), tfjs-backend-wasm's kernels (ReLU's
 * gradient as Step, Cast, Multiply; a bias Add; a Sum over the leading axes).
 *
 *   npx tsx bench/simd-kernels.bench.ts [--rounds 7] [--calls 10]
 */
import { parseArgs } from 'node:util';
import { registerAdamUpdateWasmKernel } from '../src/main/engine/backend/adam-wasm';
import { initBackend } from '../src/main/engine/backend/ladder';
import { setSimdKernelsEnabled, simdKernelsUnavailable } from '../src/main/engine/backend/simd/simd-kernels';
import { tf } from '../src/main/engine/tf';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, calls: { type: 'string', default: '10' } },
});
const rounds = Number(values.rounds);
const calls = Number(values.calls);

interface Case {
  name: string;
  shape: string;
  run: () => tf.Tensor | tf.Tensor[];
}

function bnCases(shape: [number, number, number, number]): Case[] {
  const c = shape[3];
  const x = tf.randomNormal(shape);
  const dy = tf.randomNormal(shape);
  const gamma = tf.randomUniform([c], 0.5, 1.5);
  const beta = tf.randomNormal([c]);
  const attrs = { varianceEpsilon: 1e-3 };
  const forward = (): tf.Tensor[] =>
    tf.engine().runKernel('PollardBatchNormForward', { x, scale: gamma, offset: beta }, attrs) as tf.Tensor[];
  const stats = forward();
  return [
    { name: 'batch-norm forward', shape: shape.join('×'), run: forward },
    {
      name: 'batch-norm backward',
      shape: shape.join('×'),
      run: () =>
        tf
          .engine()
          .runKernel(
            'PollardBatchNormGrad',
            { dy, x, mean: stats[1]!, variance: stats[2]!, scale: gamma },
            attrs,
          ) as tf.Tensor[],
    },
  ];
}

function cases(): Case[] {
  const relu = (shape: number[]): Case => {
    const x = tf.randomNormal(shape);
    const dy = tf.randomNormal(shape);
    return {
      name: 'ReLU gradient',
      shape: shape.join('×'),
      run: () => tf.grad((v: tf.Tensor) => tf.relu(v))(x, dy),
    };
  };
  const bias = (shape: number[]): Case[] => {
    const x = tf.randomNormal(shape);
    const b = tf.randomNormal([shape[shape.length - 1]!]);
    const leading = shape.slice(0, -1).map((_, i) => i);
    return [
      { name: 'bias Add', shape: `${shape.join('×')} + ${b.shape[0]}`, run: () => tf.add(x, b) },
      { name: 'Sum over leading axes', shape: shape.join('×'), run: () => tf.sum(x, leading) },
    ];
  };
  const pool = (shape: [number, number, number, number]): Case => {
    const x = tf.randomNormal(shape);
    const dy = tf.randomNormal([shape[0], shape[1] / 2, shape[2] / 2, shape[3]]);
    return {
      name: '2×2 max-pool gradient',
      shape: shape.join('×'),
      run: () => tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'))(x, dy),
    };
  };
  const adam = (shape: number[]): Case => {
    const [value, m, gradient] = [tf.randomNormal(shape), tf.randomNormal(shape), tf.randomNormal(shape)];
    const v = tf.abs(tf.randomNormal(shape));
    const attrs = {
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      learningRate: 1e-3,
      correction1: 0.5,
      correction2: 0.01,
    };
    return {
      name: 'Adam update',
      shape: shape.join('×'),
      run: () =>
        tf.engine().runKernel('PollardAdamUpdate', { value, m, v, gradient }, attrs as never) as tf.Tensor[],
    };
  };
  return [
    ...bnCases([64, 32, 32, 16]),
    ...bnCases([64, 8, 8, 64]),
    relu([64, 32, 32, 16]),
    relu([64, 28, 28, 6]),
    ...bias([64, 28, 28, 6]),
    pool([64, 28, 28, 6]),
    pool([64, 28, 28, 32]),
    adam([400, 120]),
    adam([3, 3, 64, 64]),
  ];
}

function time(run: () => tf.Tensor | tf.Tensor[]): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) tf.dispose(run());
  return (performance.now() - start) / calls;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await initBackend('wasm');
  registerAdamUpdateWasmKernel();
  const reason = simdKernelsUnavailable();
  if (reason !== undefined) throw new Error(`the SIMD kernels are not available here: ${reason}`);
  const rows: string[][] = [];
  for (const c of cases()) {
    const on: number[] = [];
    const off: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const enabled of r % 2 === 0 ? [true, false] : [false, true]) {
        setSimdKernelsEnabled(enabled);
        tf.dispose(c.run()); // warm (sessions, first-use allocations)
        (enabled ? on : off).push(time(c.run));
      }
    }
    setSimdKernelsEnabled(true);
    rows.push([
      c.name,
      c.shape,
      median(on).toFixed(3),
      median(off).toFixed(3),
      `${(median(off) / median(on)).toFixed(2)}×`,
    ]);
  }
  const header = ['kernel', 'shape', 'SIMD ms', 'without ms', 'speed-up'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log(`\nMedians of ${rounds} alternating rounds of ${calls} calls, one thread, same process.`);
}

await main();
