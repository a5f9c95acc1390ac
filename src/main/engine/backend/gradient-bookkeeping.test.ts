/**
 * The gradient bookkeeping kernels on wasm against the kernels they replace: the finiteness probe
 * is 0 exactly when every value is finite and NaN otherwise, wherever the bad value sits; adding
 * the replicas' parts gives the same bits as tfjs's Adds in the same order; each runs as one
 * kernel instead of one or two per variable, in Pollard's SIMD kernels or, without them, in
 * JavaScript; on cpu the composed forms give the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomArray } from '../testing/numeric';
import { tf } from '../tf';
import { ADD_PARTS_KERNEL, NON_FINITE_PROBE_KERNEL, addParts, finiteProbe } from './gradient-bookkeeping';
import { setSimdKernelsEnabled, simdKernelsUnavailable } from './simd/simd-kernels';
import { registerWasmBackend } from './wasm-backend';

const SHAPES: number[][] = [[3, 3, 4, 5], [5], [7, 2], [1], [2, 2, 2, 6]];
const TOTAL = SHAPES.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);

function gradients(seed: number): tf.Tensor[] {
  return SHAPES.map((shape, i) => tf.tensor(randomArray(tf.util.sizeFromShape(shape), seed + i), shape));
}

/** The probe's value with `bad` written at `index` of gradient `which` (none when undefined). */
async function probeWith(which?: number, index = 0, bad = Number.NaN): Promise<number> {
  const grads = gradients(3);
  if (which !== undefined) {
    const values = grads[which]!.dataSync() as Float32Array;
    values[index] = bad;
    grads[which]!.dispose();
    grads[which] = tf.tensor(values, SHAPES[which]);
  }
  const probe = finiteProbe(grads);
  const [value] = Array.from(await probe.data());
  tf.dispose([...grads, probe]);
  return value!;
}

const CASES = [
  { name: 'wasm, SIMD kernels', backend: 'wasm', simd: true },
  { name: 'wasm, JavaScript loops', backend: 'wasm', simd: false },
  { name: 'cpu', backend: 'cpu', simd: false },
] as const;

describe.each(CASES)('gradient bookkeeping on $name', ({ backend, simd }) => {
  beforeAll(async () => {
    await registerWasmBackend();
    expect(await tf.setBackend(backend)).toBe(true);
    if (backend === 'wasm') expect(simdKernelsUnavailable()).toBeUndefined();
    setSimdKernelsEnabled(simd);
  });

  afterAll(() => {
    setSimdKernelsEnabled(true);
  });

  it('probes to 0 when every gradient is finite, to NaN for a NaN or an Inf anywhere', async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    expect(await probeWith()).toBe(0);
    expect(await probeWith(0, 0)).toBeNaN();
    expect(await probeWith(4, 23, Number.POSITIVE_INFINITY)).toBeNaN();
    expect(await probeWith(3, 0, Number.NEGATIVE_INFINITY)).toBeNaN();
    expect(await probeWith(2, 13, 3.4e38)).toBe(0);
    const empty = finiteProbe([]);
    expect(Array.from(await empty.data())).toEqual([0]);
    empty.dispose();
  });

  it("adds the parts in order to the same bits as tfjs's Adds, leaving the gradients as they were", async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const grads = gradients(11);
    const before = grads.map((g) => (g.dataSync() as Float32Array).slice());
    const parts = [randomArray(TOTAL + 3, 40), randomArray(TOTAL, 41)];
    const start = tf.memory().numTensors;
    const sums = addParts(grads, parts);
    expect(tf.memory().numTensors).toBe(start + grads.length);
    let offset = 0;
    const expected = tf.tidy(() =>
      grads.map((g) => {
        const a = tf.tensor(parts[0]!.subarray(offset, offset + g.size), g.shape);
        const b = tf.tensor(parts[1]!.subarray(offset, offset + g.size), g.shape);
        offset += g.size;
        return tf.add(tf.add(g, a), b);
      }),
    );
    for (let k = 0; k < grads.length; k++) {
      expect(sums[k]!.shape).toEqual(SHAPES[k]);
      expect(Array.from(sums[k]!.dataSync())).toEqual(Array.from(expected[k]!.dataSync()));
      expect(Array.from(grads[k]!.dataSync())).toEqual(Array.from(before[k]!));
    }
    const copies = addParts(grads, []);
    expect(Array.from(copies[1]!.dataSync())).toEqual(Array.from(before[1]!));
    expect(() => addParts(grads, [new Float32Array(TOTAL - 1)])).toThrow(
      `addParts: a part has ${TOTAL - 1} values, the gradients need ${TOTAL}`,
    );
    tf.dispose([...grads, ...sums, ...expected, ...copies]);
  });

  it(`runs as ${backend === 'wasm' ? 'one kernel each' : "tfjs's kernels"}`, async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const grads = gradients(5);
    const parts = [randomArray(TOTAL, 50)];
    // tfjs reuses one profile record: read each before the next.
    const names = (p: { kernels: { name: string }[] }) => p.kernels.map((k) => k.name);
    const probe = await tf.profile(() => finiteProbe(grads));
    const probeNames = names(probe);
    const probeResult = probe.result as tf.Tensor;
    const add = await tf.profile(() => addParts(grads, parts));
    const addNames = names(add);
    if (backend === 'wasm') {
      expect(probeNames).toEqual([NON_FINITE_PROBE_KERNEL]);
      expect(addNames).toEqual([ADD_PARTS_KERNEL]);
    } else {
      // Multiply and Sum per gradient, then AddN; an Add per gradient and part.
      expect(probeNames).toHaveLength(2 * SHAPES.length + 1);
      expect(probeNames.at(-1)).toBe('AddN');
      expect(addNames.filter((n) => n === 'Add')).toHaveLength(SHAPES.length);
    }
    tf.dispose([...grads, probeResult, ...(add.result as tf.Tensor[])]);
  });
});
