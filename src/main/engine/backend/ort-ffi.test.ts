/**
 * The C API path gives the binding's results, in place in a view of a larger buffer, allocates
 * nothing per run on the JavaScript side, names a wrong input size, and is what the session
 * cache uses on one thread (the binding on more).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrt, OrtSession } from './ort-binding';
import { FfiSession, loadOrtFfi } from './ort-ffi';
import { forwardGraph } from './native-conv-graphs';
import { encodeOnnxModel } from './onnx-model';
import { clearSessions, sessionFor } from './ort-session-cache';
import { randomArray } from '../testing/numeric';

const binding = loadOrt();
const ffi = loadOrtFfi();

// A 3×3 'same' convolution with bias and ReLU, NHWC in and out, as the native kernels run it.
const geometry = {
  batch: 2,
  inHeight: 6,
  inWidth: 5,
  inChannels: 3,
  outHeight: 6,
  outWidth: 5,
  outChannels: 4,
  filterHeight: 3,
  filterWidth: 3,
  strideHeight: 1,
  strideWidth: 1,
  dilationHeight: 1,
  dilationWidth: 1,
  top: 1,
  bottom: 1,
  left: 1,
  right: 1,
};
const shapes = { x: [2, 6, 5, 3], w: [3, 3, 3, 4], b: [4] };
const outputShape = [2, 6, 5, 4];
const model = encodeOnnxModel(forwardGraph(geometry, true, 'relu'));

describe.skipIf(!binding.ok || process.platform !== 'linux')('ONNX Runtime through its C API', () => {
  afterEach(() => {
    clearSessions();
  });

  it('binds the library onnxruntime-node ships, version 1.30', () => {
    expect(ffi.ok).toBe(true);
    if (ffi.ok) expect(ffi.ffi.version).toMatch(/^1\.30\./);
  });

  it('writes the same convolution as the binding, in place, leaving the rest of the buffer alone', () => {
    if (!ffi.ok || !binding.ok) throw new Error('unavailable');
    const heap = new Float32Array(1000).fill(7);
    const x = heap.subarray(10, 10 + 180);
    x.set(randomArray(180, 1));
    const w = heap.subarray(200, 200 + 108);
    w.set(randomArray(108, 2));
    const b = heap.subarray(310, 314);
    b.set([0.5, -0.5, 0.1, 0]);
    const viaFfi = heap.subarray(320, 320 + 240);
    new FfiSession(ffi.ffi, model, shapes, 'y', outputShape, 1).run({ x, w, b }, viaFfi);
    const viaBinding = new Float32Array(240);
    new OrtSession(binding.ort, model, shapes, 'y', outputShape, { intraOpNumThreads: 1 }).run(
      { x, w, b },
      viaBinding,
    );
    expect(Array.from(viaFfi)).toEqual(Array.from(viaBinding));
    expect(viaFfi.some((v) => v > 0)).toBe(true);
    expect(viaFfi.every((v) => v >= 0)).toBe(true);
    expect(heap[319]).toBe(7);
    expect(heap[560]).toBe(7);
  });

  it('allocates no output-sized ArrayBuffer per run, where the binding allocates one per run', () => {
    if (!ffi.ok || !binding.ok) throw new Error('unavailable');
    const inputs = { x: randomArray(180, 3), w: randomArray(108, 4), b: new Float32Array(4) };
    const output = new Float32Array(240);
    const arrayBytes = (run: () => void): number => {
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 100; i++) run();
      return process.memoryUsage().arrayBuffers - before;
    };
    const viaFfi = new FfiSession(ffi.ffi, model, shapes, 'y', outputShape, 1);
    const viaBinding = new OrtSession(binding.ort, model, shapes, 'y', outputShape, { intraOpNumThreads: 1 });
    // The binding's copies add up, unless a collection during the loop frees older buffers (it
    // did in about 1 run of 6 of this file): the most of five loops.
    const bindingBytes = Math.max(
      ...Array.from({ length: 5 }, () => arrayBytes(() => viaBinding.run(inputs, output))),
    );
    expect(bindingBytes).toBeGreaterThanOrEqual(100 * 240 * 4);
    // 100 runs, less than one output's bytes in all (koffi's own small bookkeeping aside).
    expect(arrayBytes(() => viaFfi.run(inputs, output))).toBeLessThan(240 * 4);
  });

  it('names an input or output of the wrong size, and refuses after dispose', () => {
    if (!ffi.ok) throw new Error('unavailable');
    const session = new FfiSession(ffi.ffi, model, shapes, 'y', outputShape, 1);
    const w = new Float32Array(108);
    const b = new Float32Array(4);
    expect(() => session.run({ x: new Float32Array(179), w, b }, new Float32Array(240))).toThrow(
      'native kernel: input x has 179 values, its shape needs 180',
    );
    expect(() => session.run({ x: new Float32Array(180), w, b }, new Float32Array(241))).toThrow(
      'native kernel: output has 241 values, its shape needs 240',
    );
    expect(() => session.run({ x: new Float32Array(180), w, z: b }, new Float32Array(240))).toThrow(
      'native kernel: unexpected input z',
    );
    session.dispose();
    expect(() => session.run({ x: new Float32Array(180), w, b }, new Float32Array(240))).toThrow(
      'native kernel: the session was disposed',
    );
  });

  it("passes ONNX Runtime's own error on", () => {
    if (!ffi.ok) throw new Error('unavailable');
    const session = new FfiSession(ffi.ffi, model, shapes, 'y', outputShape, 1);
    // No bias: the graph's input b is missing.
    expect(() =>
      session.run({ x: new Float32Array(180), w: new Float32Array(108) }, new Float32Array(240)),
    ).toThrow(/^ONNX Runtime Run: .*b/);
  });

  it("gives the binding's results on two intra-op threads too, and is what the session cache uses", () => {
    if (!ffi.ok || !binding.ok) throw new Error('unavailable');
    const inputs = { x: randomArray(180, 5), w: randomArray(108, 6), b: randomArray(4, 7) };
    const viaFfi = new Float32Array(240);
    new FfiSession(ffi.ffi, model, shapes, 'y', outputShape, 2).run(inputs, viaFfi);
    const viaBinding = new Float32Array(240);
    new OrtSession(binding.ort, model, shapes, 'y', outputShape, { intraOpNumThreads: 2 }).run(
      inputs,
      viaBinding,
    );
    expect(Array.from(viaFfi)).toEqual(Array.from(viaBinding));
    const graph = () => forwardGraph(geometry, true, 'relu');
    expect(sessionFor('one', graph)).toBeInstanceOf(FfiSession);
  });

  it('stays off with POLLARD_ORT_FFI=0', () => {
    expect(loadOrtFfi({ POLLARD_ORT_FFI: '0' })).toEqual({ ok: false, reason: 'POLLARD_ORT_FFI=0' });
  });
});
