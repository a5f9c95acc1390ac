/**
 * Helper threads for the native kernels: a batch cut into even contiguous ranges; parts run on
 * a helper thread give the calling thread's results; a failing part still waits for the helper's
 * part (which writes into memory the caller owns) before the error is thrown; and the helpers
 * stop when the kernel threads go back to one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrtFfi } from './ort-ffi';
import {
  type KernelPart,
  helperFailure,
  helperPartCount,
  helpersStarted,
  kernelParts,
  runParts,
  setHelperThreads,
  splitRanges,
} from './ort-helpers';
import { clearSessions, sessionFor } from './ort-session-cache';
import type { OnnxGraph } from './onnx-model';

describe('splitRanges', () => {
  it('cuts a batch into contiguous ranges, the larger first', () => {
    expect(splitRanges(64, 2)).toEqual([
      [0, 32],
      [32, 32],
    ]);
    expect(splitRanges(7, 3)).toEqual([
      [0, 3],
      [3, 2],
      [5, 2],
    ]);
    expect(splitRanges(2, 4)).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(splitRanges(5, 1)).toEqual([[0, 5]]);
  });
});

/** y = a · b for a [rows, 96] and b [96, 64]. */
function gemm(rows: number): OnnxGraph {
  return {
    inputs: [
      { name: 'a', shape: [rows, 96] },
      { name: 'b', shape: [96, 64] },
    ],
    outputs: [{ name: 'y', shape: [rows, 64] }],
    nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'] }],
  };
}

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
}

describe.skipIf(!loadOrtFfi().ok)('helper threads', () => {
  afterAll(() => {
    setHelperThreads(0);
    clearSessions();
  });

  it('run a part at the same time as this thread, with the same results', async () => {
    setHelperThreads(1);
    await helpersStarted();
    expect(helperFailure()).toBeUndefined();
    expect(kernelParts()).toBe(2);
    const a = values(64 * 96, 1);
    const b = values(96 * 64, 2);
    const whole = new Float32Array(64 * 64);
    sessionFor('gemm 64', () => gemm(64)).run({ a, b }, whole);
    const split = new Float32Array(64 * 64);
    const session = sessionFor('gemm 32', () => gemm(32));
    const before = helperPartCount();
    runParts([
      { session, inputs: { a: a.subarray(0, 32 * 96), b }, output: split.subarray(0, 32 * 64) },
      { session, inputs: { a: a.subarray(32 * 96), b }, output: split.subarray(32 * 64) },
    ]);
    expect(helperPartCount() - before).toBe(1);
    expect(Array.from(split)).toEqual(Array.from(whole));
  });

  it("wait for the helper's part before a failure on this thread is thrown", async () => {
    setHelperThreads(1);
    await helpersStarted();
    const a = values(32 * 96, 3);
    const b = values(96 * 64, 4);
    const output = new Float32Array(32 * 64);
    const failing: KernelPart = {
      session: {
        run: () => {
          throw new Error('this part failed');
        },
        dispose: () => undefined,
      },
      inputs: {},
      output: new Float32Array(0),
    };
    const before = helperPartCount();
    expect(() =>
      runParts([failing, { session: sessionFor('gemm 32', () => gemm(32)), inputs: { a, b }, output }]),
    ).toThrow('this part failed');
    // The helper's part had finished (and written its output) before runParts threw.
    expect(helperPartCount() - before).toBe(1);
    const expected = new Float32Array(32 * 64);
    sessionFor('gemm 32', () => gemm(32)).run({ a, b }, expected);
    expect(Array.from(output)).toEqual(Array.from(expected));
  });

  it('refuse a part whose views do not fit the session, naming the input', async () => {
    setHelperThreads(1);
    await helpersStarted();
    const session = sessionFor('gemm 32', () => gemm(32));
    const good = { a: values(32 * 96, 5), b: values(96 * 64, 6) };
    expect(() =>
      runParts([
        { session, inputs: good, output: new Float32Array(32 * 64) },
        { session, inputs: { ...good, a: values(31 * 96, 5) }, output: new Float32Array(32 * 64) },
      ]),
    ).toThrow('native kernel: input a has 2976 values, its shape needs 3072');
  });

  it('stop when the kernel threads go back to one', async () => {
    setHelperThreads(1);
    await helpersStarted();
    expect(kernelParts()).toBe(2);
    setHelperThreads(0);
    expect(kernelParts()).toBe(1);
    expect(() => setHelperThreads(-1)).toThrow('helper threads must be a whole number, not -1');
  });
});
