/**
 * ONNX Runtime sessions for the native kernels, one per (graph, fixed shapes, attributes),
 * created lazily and kept in a bounded LRU: a training run reuses a few dozen convolution
 * shapes each step, and creating a session costs milliseconds (graph optimisation, kernel
 * selection), so sessions must outlive a step, but evaluation at other batch sizes must not
 * grow the set without bound. Evicted sessions are disposed.
 *
 * Every session has one intra-op thread: a kernel's work is spread over threads by cutting its
 * batch across helper threads (ort-helpers.ts), not by ORT's per-session pools.
 *
 * Sessions go through ONNX Runtime's C API (ort-ffi.ts), which runs in place on the wasm heap;
 * where that API cannot be bound, through onnxruntime-node's binding, which copies every output.
 */
import { type OrtLoad, OrtSession, loadOrt } from './ort-binding';
import { FfiSession, loadOrtFfi } from './ort-ffi';
import { type OnnxGraph, encodeOnnxModel } from './onnx-model';

/** What a native kernel runs: inputs and the output as float32 views of the wasm heap. */
export interface KernelSession {
  run(inputs: Readonly<Record<string, Float32Array>>, output: Float32Array): void;
  dispose(): void;
}

/** Enough for every convolution shape of a large CNN, forward and both gradients, at two batch sizes. */
export const SESSION_CACHE_SIZE = 256;

const sessions = new Map<string, KernelSession>();
const INTRA_OP_THREADS = 1;

export function clearSessions(): void {
  for (const session of sessions.values()) session.dispose();
  sessions.clear();
}

export function cachedSessionCount(): number {
  return sessions.size;
}

/**
 * The session for `key`, built from `graph()` on a miss. The graph must have one output.
 * Throws when ONNX Runtime is unavailable (callers check nativeAvailable first).
 */
export function sessionFor(key: string, graph: () => OnnxGraph): KernelSession {
  const hit = sessions.get(key);
  if (hit !== undefined) {
    // Move to the most recent end of the Map's insertion order.
    sessions.delete(key);
    sessions.set(key, hit);
    return hit;
  }
  const load: OrtLoad = loadOrt();
  if (!load.ok) throw new Error(load.reason);
  const g = graph();
  const output = g.outputs[0];
  if (output === undefined || g.outputs.length !== 1) throw new Error('native kernel graphs have one output');
  const inputShapes = Object.fromEntries(g.inputs.map((input) => [input.name, input.shape]));
  const model = encodeOnnxModel(g);
  const ffi = loadOrtFfi();
  const session: KernelSession = ffi.ok
    ? new FfiSession(ffi.ffi, model, inputShapes, output.name, output.shape, INTRA_OP_THREADS)
    : new OrtSession(load.ort, model, inputShapes, output.name, output.shape, {
        intraOpNumThreads: INTRA_OP_THREADS,
      });
  sessions.set(key, session);
  if (sessions.size > SESSION_CACHE_SIZE) {
    const [oldestKey, oldest] = sessions.entries().next().value as [string, KernelSession];
    sessions.delete(oldestKey);
    oldest.dispose();
  }
  return session;
}
