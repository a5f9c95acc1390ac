/**
 * The fused Adam on wasm against tfjs's own AdamOptimizer on cpu: the same variables, moments,
 * slot names and β powers after several steps, checkpoints (getWeights/setWeights) that carry
 * over in both directions, and one kernel per variable instead of tfjs's fourteen; on webgpu
 * (SwiftShader where there is no GPU, as CI has) three shaders per variable and no reads back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmBackend } from '../backend/wasm-backend';
import { probeWebgpu } from '../backend/webgpu-rung';
import { randomArray, relativeError } from '../testing/numeric';
import { tf } from '../tf';
import { FusedAdamOptimizer } from './fused-adam';

const SHAPES: number[][] = [[3, 3, 4, 5], [5], [7, 2], [1]];
const STEPS = 5;

interface Run {
  values: Float32Array[];
  weights: { name: string; data: Float32Array }[];
}

/** STEPS Adam steps on fresh variables with seeded gradients; the optimizer made by `make`. */
async function run(
  backend: 'cpu' | 'wasm' | 'webgpu',
  make: () => tf.Optimizer,
  restoreAfter?: number,
): Promise<Run> {
  expect(await tf.setBackend(backend)).toBe(true);
  const variables = SHAPES.map((shape, i) =>
    tf.variable(
      tf.tensor(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          10 + i,
        ),
        shape,
      ),
      true,
      `fa${i}`,
    ),
  );
  let optimizer = make();
  for (let step = 0; step < STEPS; step++) {
    if (step === restoreAfter) {
      // A checkpoint round trip mid-run: a fresh optimizer given the saved weights.
      const saved = await optimizer.getWeights();
      const copies = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
      optimizer.dispose();
      optimizer = make();
      await optimizer.setWeights(copies);
    }
    const grads = Object.fromEntries(
      variables.map((v, i) => [v.name, tf.tensor(randomArray(v.size, 100 * step + i), v.shape)]),
    );
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const weights = await Promise.all(
    (await optimizer.getWeights()).map(async (w) => ({
      name: w.name,
      data: (await w.tensor.data()) as Float32Array,
    })),
  );
  const values = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  optimizer.dispose();
  tf.dispose(variables);
  return { values, weights };
}

function expectSame(actual: Run, expected: Run, tolerance = 1e-6): void {
  expect(actual.weights.map((w) => w.name)).toEqual(expected.weights.map((w) => w.name));
  for (let i = 0; i < expected.values.length; i++) {
    expect(relativeError(actual.values[i] as Float32Array, expected.values[i] as Float32Array)).toBeLessThan(
      tolerance,
    );
  }
  for (let i = 0; i < expected.weights.length; i++) {
    const a = actual.weights[i]?.data as Float32Array;
    expect(relativeError(a, expected.weights[i]?.data as Float32Array)).toBeLessThan(tolerance);
  }
}

describe('FusedAdamOptimizer', () => {
  beforeAll(async () => {
    await registerWasmBackend();
  });

  it('on wasm takes the same steps as tfjs Adam on cpu', async () => {
    const reference = await run('cpu', () => tf.train.adam(0.01));
    const fused = await run('wasm', () => new FusedAdamOptimizer(0.01));
    expect(reference.weights.map((w) => w.name)).toEqual([
      'iter',
      'fa0/m',
      'fa1/m',
      'fa2/m',
      'fa3/m',
      'fa0/v',
      'fa1/v',
      'fa2/v',
      'fa3/v',
    ]);
    expect(Array.from(fused.weights[0]?.data ?? [])).toEqual([STEPS]);
    expectSame(fused, reference);
  });

  it('resumes from a checkpoint as tfjs Adam does', async () => {
    // setWeights recomputes β·ᵗ as a power rather than the running product, so the reference
    // is tfjs Adam resumed the same way.
    for (const restoreAfter of [2, 3]) {
      const reference = await run('cpu', () => tf.train.adam(0.01), restoreAfter);
      expectSame(await run('wasm', () => new FusedAdamOptimizer(0.01), restoreAfter), reference);
    }
  });

  it('is tfjs Adam itself on cpu (bit for bit)', async () => {
    const reference = await run('cpu', () => tf.train.adam(0.01));
    const fused = await run('cpu', () => new FusedAdamOptimizer(0.01));
    expect(fused.values).toEqual(reference.values);
  });

  it('runs one kernel per variable on wasm, and leaks nothing', async () => {
    const { names } = await secondStep('wasm');
    expect(names.filter((n) => n === 'PollardAdamUpdate')).toHaveLength(SHAPES.length);
    // The rest: the two β-power updates.
    expect(names.filter((n) => n !== 'PollardAdamUpdate')).toEqual(['Multiply', 'Multiply']);
  });
});

/**
 * Two FusedAdam steps on `backend` from ones with gradient 1 (the first creates the slots): the
 * kernels the second step ran, after checking it leaks no tensor, and the fourth variable's
 * first value after both.
 */
async function secondStep(backend: string): Promise<{ names: string[]; fourth: number }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const variables = SHAPES.map((shape) => tf.variable(tf.ones(shape)));
  const optimizer = new FusedAdamOptimizer(0.01);
  const grads = Object.fromEntries(variables.map((v) => [v.name, tf.onesLike(v)]));
  optimizer.applyGradients(grads);
  const before = tf.memory().numTensors;
  const profile = await tf.profile(() => optimizer.applyGradients(grads));
  expect(tf.memory().numTensors).toBe(before);
  const fourth = Array.from(await variables[3]!.data())[0]!;
  tf.dispose([...variables, ...Object.values(grads)]);
  optimizer.dispose();
  return { names: profile.kernels.map((k) => k.name), fourth };
}

// Forced, so SwiftShader counts (CI installs it; webgpu-backend.test.ts fails there without it).
const webgpu = await probeWebgpu(true);

(webgpu.ok ? describe : describe.skip)('FusedAdamOptimizer on webgpu', () => {
  it('takes the same steps as tfjs Adam on cpu, and resumes from a checkpoint as it does', async () => {
    // A GPU's float32 sqrt, division and β powers round differently from the CPU's: up to 5e-6 seen.
    const reference = await run('cpu', () => tf.train.adam(0.01));
    expectSame(await run('webgpu', () => new FusedAdamOptimizer(0.01)), reference, 1e-5);
    const resumed = await run('cpu', () => tf.train.adam(0.01), 2);
    expectSame(await run('webgpu', () => new FusedAdamOptimizer(0.01), 2), resumed, 1e-5);
  });

  it('runs none of tfjs Adam’s kernels (its own shaders instead), and leaks nothing', async () => {
    const { names, fourth } = await secondStep('webgpu');
    // Only the two β-power updates go through tfjs kernels.
    expect(names).toEqual(['Multiply', 'Multiply']);
    // After two steps from 1 with gradient 1: m̂ = v̂ = 1, so each step moves by lr/(1 + ε).
    expect(fourth).toBeCloseTo(1 - 2 * 0.01, 6);
  });
});
