/**
 * Pollard's WebAssembly SIMD kernels give the cpu backend's numbers (tfjs's reference) on odd
 * shapes — channel counts that are not multiples of 4, row counts that leave a partial chunk,
 * ties and NaN — and the kernels they replace come back when they are turned off.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tf } from '../../tf';
import { randomArray } from '../../testing/numeric';
import { registerAdamUpdateWasmKernel } from '../adam-wasm';
import { registerBatchNormTraining } from '../batch-norm-training';
import { registerWasmBackend } from '../wasm-backend';
import { compiledSimdModule, setSimdKernelsEnabled, simdKernelsUnavailable } from './simd-kernels';

type Backend = 'cpu' | 'wasm';

/** Runs `f` on `backend` with tensors made there from the same numbers; returns its values. */
async function on(
  backend: Backend,
  f: (...args: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  inputs: { values: Float32Array; shape: number[] }[],
): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  return tf.tidy(() => {
    const out = f(...inputs.map((input) => tf.tensor(input.values, input.shape)));
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

function random(shape: number[], seed: number): { values: Float32Array; shape: number[] } {
  return { values: randomArray(tf.util.sizeFromShape(shape), seed), shape };
}

/** Kernel names the wasm backend ran for `f`. */
async function kernelsRun(f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  expect(await tf.setBackend('wasm')).toBe(true);
  const info = await tf.profile(() => f());
  return info.kernelNames;
}

/** Equal element by element, NaN equal to NaN. */
function expectSame(actual: Float32Array, expected: Float32Array, tolerance = 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e)) expect(a, `element ${i}`).toBeNaN();
    else if (tolerance === 0) expect(a, `element ${i}`).toBe(e);
    else
      expect(Math.abs(a - e), `element ${i}: ${a} against ${e}`).toBeLessThanOrEqual(
        tolerance * Math.max(1, Math.abs(e)),
      );
  }
}

beforeAll(async () => {
  await registerWasmBackend();
  registerBatchNormTraining();
  registerAdamUpdateWasmKernel();
  expect(await tf.setBackend('wasm')).toBe(true);
});

afterEach(() => setSimdKernelsEnabled(true));

describe('SIMD kernels', () => {
  it('compile on this machine', () => {
    expect(simdKernelsUnavailable()).toBeUndefined();
  });

  it('POLLARD_SIMD_KERNELS=0 turns them off, with the reason', async () => {
    vi.resetModules();
    const fresh = await import('./simd-kernels');
    await fresh.compileSimdKernels({ POLLARD_SIMD_KERNELS: '0' });
    expect(fresh.simdKernelsUnavailable()).toBe('disabled by POLLARD_SIMD_KERNELS=0');
    expect(fresh.simdKernelsFor(tf.backend() as never)).toBeUndefined();
  });

  it('a worker adopts the module compiled here, without loading wabt', async () => {
    const module = compiledSimdModule();
    expect(module).toBeInstanceOf(WebAssembly.Module);
    vi.resetModules();
    vi.doMock('wabt', () => {
      throw new Error('wabt must not load');
    });
    try {
      const fresh = await import('./simd-kernels');
      fresh.adoptSimdModule(module!);
      await fresh.compileSimdKernels();
      expect(fresh.simdKernelsUnavailable()).toBeUndefined();
      const kernels = fresh.simdKernelsFor(tf.backend() as never);
      expect(kernels).toBeDefined();
      const x = tf.tensor([-1, 2, 0, 3, -4]);
      const dy = tf.tensor([5, 6, 7, 8, 9]);
      const out = tf.zerosLike(x);
      const heap = (t: tf.Tensor): Float32Array =>
        (tf.backend() as unknown as { typedArrayFromHeap(t: tf.Tensor): Float32Array }).typedArrayFromHeap(t);
      kernels!.reluGrad(heap(dy), heap(x), heap(out));
      expect(Array.from(heap(out))).toEqual([0, 6, 0, 8, 0]);
      tf.dispose([x, dy, out]);
    } finally {
      vi.doUnmock('wabt');
    }
  });

  describe('ReLU gradient', () => {
    const relu = (x: tf.Tensor, dy: tf.Tensor): tf.Tensor => tf.grad((v: tf.Tensor) => tf.relu(v))(x, dy);

    it.each([[[7]], [[2, 5, 3]], [[4, 6, 6, 6]]])(
      'equals cpu for shape %j, zeros and NaN included',
      async (shape) => {
        const x = random(shape, 11);
        const dy = random(shape, 12);
        x.values[0] = 0;
        x.values[1] = Number.NaN;
        x.values[2] = -0.5;
        dy.values[2] = Number.NaN; // NaN · 0 stays NaN, as in tfjs
        if (x.values.length > 5) x.values[5] = -0;
        const expected = await on('cpu', relu, [x, dy]);
        const actual = await on('wasm', relu, [x, dy]);
        expectSame(actual[0]!, expected[0]!);
      },
    );

    it('runs as one PollardReluGrad kernel, and as Step, Cast, Multiply when turned off', async () => {
      const x = tf.tensor(randomArray(64, 3), [4, 4, 4]);
      const f = (): tf.Tensor => tf.grad((v: tf.Tensor) => tf.relu(v))(x);
      const simd = await kernelsRun(f);
      expect(simd).toContain('PollardReluGrad');
      expect(simd).not.toContain('Step');
      setSimdKernelsEnabled(false);
      const plain = await kernelsRun(f);
      expect(plain).not.toContain('PollardReluGrad');
      expect(plain).toContain('Step');
      x.dispose();
    });
  });

  describe('per-channel Add (a bias)', () => {
    it.each([
      [[3, 1], 1],
      [[5, 3], 3],
      [[2, 3, 5, 6], 6],
      [[3, 7, 16], 16],
    ])('equals cpu exactly for %j + [%i], either operand first', async (shape, channels) => {
      const x = random(shape, 21);
      const b = random([channels], 22);
      const expected = await on('cpu', (p, q) => [tf.add(p!, q!), tf.add(q!, p!)], [x, b]);
      const actual = await on('wasm', (p, q) => [tf.add(p!, q!), tf.add(q!, p!)], [x, b]);
      expectSame(actual[0]!, expected[0]!);
      expectSame(actual[1]!, expected[1]!);
    });

    it('leaves other broadcasts to tfjs', async () => {
      const x = random([2, 3, 4], 31);
      const row = random([3, 1], 32);
      const expected = await on('cpu', (p, q) => tf.add(p!, q!), [x, row]);
      const actual = await on('wasm', (p, q) => tf.add(p!, q!), [x, row]);
      expectSame(actual[0]!, expected[0]!);
    });
  });

  describe('Sum over the leading axes', () => {
    it.each([
      [[9, 1], [0], false],
      [[5, 3], [0], true],
      [[2, 3, 5, 6], [0, 1, 2], false],
      [[2, 3, 5, 6], [-2, 0, 1], true],
      [[3, 7, 16], [1, 0], false],
    ])('equals cpu for %j over %j (keepDims %s)', async (shape, axes, keepDims) => {
      const x = random(shape, 41);
      const f = (p: tf.Tensor): tf.Tensor => tf.sum(p, axes, keepDims);
      const expected = await on('cpu', f as never, [x]);
      const actual = await on('wasm', f as never, [x]);
      expectSame(actual[0]!, expected[0]!, 1e-6);
      const shapeOn = async (backend: Backend): Promise<number[]> => {
        expect(await tf.setBackend(backend)).toBe(true);
        return tf.tidy(() => tf.sum(tf.zeros(shape), axes, keepDims).shape);
      };
      expect(await shapeOn('wasm')).toEqual(await shapeOn('cpu'));
    });

    it('keeps float32 partial sums short: 262,144 rows of 0.1 sum to 26,214.4 within 1e-6', async () => {
      const rows = 262_144;
      const values = new Float32Array(rows * 2);
      for (let i = 0; i < rows; i++) {
        values[2 * i] = 0.1;
        values[2 * i + 1] = -3 + (i % 7);
      }
      const [sums] = await on('wasm', (p) => tf.sum(p!, [0]), [{ values, shape: [rows, 2] }]);
      let exact = 0;
      for (let i = 0; i < rows; i++) exact += values[2 * i + 1] as number;
      expect(Math.abs((sums![0] as number) - rows * Math.fround(0.1)) / (rows * 0.1)).toBeLessThan(1e-6);
      expect(sums![1]).toBe(Math.fround(exact));
    });
  });

  describe('2×2 max-pool gradient', () => {
    const pool = (x: tf.Tensor, dy: tf.Tensor): tf.Tensor =>
      tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'))(x, dy);

    it.each([1, 3, 4, 6, 8, 13])('equals cpu with %i channels, odd sides, ties and NaN', async (channels) => {
      for (const simd of [true, false]) {
        setSimdKernelsEnabled(simd);
        const shape = [2, 5, 7, channels];
        const x = random(shape, 51 + channels);
        // Ties: a whole window of zeros (as after ReLU) and a window with two equal maxima.
        for (const i of [0, 1, channels, channels + 1].map((p) => p * 1)) x.values[i] = 0;
        x.values[7 * channels * 2] = 5;
        x.values[7 * channels * 2 + channels] = 5;
        x.values[channels * 4] = Number.NaN; // first of its window
        x.values[channels * 9] = Number.NaN; // second of its window
        x.values[7 * channels * 2 + 2 * channels] = Number.NEGATIVE_INFINITY; // never a maximum
        const dy = random([2, 2, 3, channels], 61);
        const expected = await on('cpu', pool, [x, dy]);
        const actual = await on('wasm', pool, [x, dy]);
        expectSame(actual[0]!, expected[0]!);
      }
    });
  });

  describe('batch norm (training mode)', () => {
    it.each([[[3, 5, 5, 6]], [[2, 3, 3, 16]], [[7, 3]]])(
      'forward and gradient on %j agree with the JavaScript loops within 1e-5',
      async (shape) => {
        const channels = shape[shape.length - 1]!;
        const x = random(shape, 71);
        const dy = random(shape, 72);
        const gamma = random([channels], 73);
        const beta = random([channels], 74);
        const f = (v: tf.Tensor, d: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor[] => {
          const fwd = tf.engine().runKernel(
            'PollardBatchNormForward',
            { x: v, scale: g, offset: b },
            {
              varianceEpsilon: 1e-3,
            },
          ) as tf.Tensor[];
          const back = tf
            .engine()
            .runKernel(
              'PollardBatchNormGrad',
              { dy: d, x: v, mean: fwd[1]!, variance: fwd[2]!, scale: g },
              { varianceEpsilon: 1e-3 },
            ) as tf.Tensor[];
          return [...fwd, ...back];
        };
        const simd = await on('wasm', f as never, [x, dy, gamma, beta]);
        setSimdKernelsEnabled(false);
        const js = await on('wasm', f as never, [x, dy, gamma, beta]);
        expect(simd).toHaveLength(6);
        for (let i = 0; i < simd.length; i++) expectSame(simd[i]!, js[i]!, 1e-5);
      },
    );
  });
  describe('Adam update', () => {
    it.each([[7], [64], [3, 5, 4]])('on %j agrees with the JavaScript loop within 1e-6', async (...shape) => {
      const value = random(shape, 101);
      const m = random(shape, 102);
      const v = { ...random(shape, 103) };
      v.values = v.values.map((e) => Math.abs(e));
      const gradient = random(shape, 104);
      const attrs = {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
        learningRate: 1e-3,
        correction1: 0.19,
        correction2: 0.004,
      };
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Tensor[] =>
        tf
          .engine()
          .runKernel(
            'PollardAdamUpdate',
            { value: a, m: b, v: c, gradient: d },
            attrs as never,
          ) as tf.Tensor[];
      const simd = await on('wasm', f as never, [value, m, v, gradient]);
      setSimdKernelsEnabled(false);
      const js = await on('wasm', f as never, [value, m, v, gradient]);
      expect(simd).toHaveLength(3);
      for (let k = 0; k < 3; k++) expectSame(simd[k]!, js[k]!, 1e-6);
      expect(simd[0]).not.toEqual(value.values);
    });
  });
});
