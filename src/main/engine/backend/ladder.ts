/**
 * The backend ladder, decided once per job process:
 *   tensorflow (@tensorflow/tfjs-node-gpu, optional, CUDA) → wasm (+ Pollard's training kernels) → cpu.
 * Every rung that is not used records why, so `pollard info` and every report can say it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendChoice, BackendName, BackendReport, BackendRung } from '../../../shared/types';
import { PollardError } from '../../../shared/errors';
import { tf } from '../tf';

const require = createRequire(import.meta.url);

let chosen: BackendReport | undefined;

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

async function tryTensorflow(): Promise<{ ok: true; device: string } | { ok: false; reason: string }> {
  let resolved: string;
  try {
    resolved = require.resolve('@tensorflow/tfjs-node-gpu');
  } catch {
    return { ok: false, reason: 'not installed (@tensorflow/tfjs-node-gpu is an optional dependency)' };
  }
  try {
    await import(resolved);
  } catch (error) {
    return { ok: false, reason: `failed to load: ${message(error)}` };
  }
  if (tf.findBackend('tensorflow') === undefined) {
    return { ok: false, reason: 'loaded, but it registered no "tensorflow" backend with this tfjs-core' };
  }
  return { ok: true, device: 'TensorFlow C library' };
}

async function tryWasm(): Promise<{ ok: true; device: string } | { ok: false; reason: string }> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dist + path.sep);
    const { registerWasmTrainingKernels } = await import('./wasm-kernels');
    registerWasmTrainingKernels();
    const ok = await tf.setBackend('wasm');
    if (!ok) return { ok: false, reason: 'failed to initialise' };
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return {
      ok: true,
      device: `WebAssembly${simd ? ' SIMD' : ''}${threads ? ', multithreaded' : ', 1 thread'}`,
    };
  } catch (error) {
    return { ok: false, reason: `failed to load: ${message(error)}` };
  }
}

async function tryCpu(): Promise<{ ok: true; device: string } | { ok: false; reason: string }> {
  const ok = await tf.setBackend('cpu');
  return ok ? { ok: true, device: 'pure JavaScript' } : { ok: false, reason: 'failed to initialise' };
}

const RUNGS: Record<
  BackendName,
  () => Promise<{ ok: true; device: string } | { ok: false; reason: string }>
> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};
const ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Resolve the choice from the argument, then POLLARD_BACKEND, then 'auto'. */
export function resolveBackendChoice(choice: BackendChoice | undefined): BackendChoice {
  const fromEnv = process.env.POLLARD_BACKEND;
  const value = choice && choice !== 'auto' ? choice : (fromEnv ?? choice ?? 'auto');
  if (value !== 'auto' && !ORDER.includes(value as BackendName)) {
    throw new PollardError(
      'usage',
      `POLLARD_BACKEND: unknown backend "${value}"; use auto, tensorflow, wasm or cpu`,
    );
  }
  return value as BackendChoice;
}

/**
 * Choose the backend for this process. With 'auto' the first rung that loads wins; a forced
 * backend that cannot load is an error (never a silent fallback).
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendReport> {
  if (chosen) return chosen;
  const wanted = resolveBackendChoice(choice);
  const rungs: BackendRung[] = [];
  let used: { name: BackendName; device: string } | undefined;
  for (const name of ORDER) {
    if (used || (wanted !== 'auto' && wanted !== name)) {
      rungs.push({
        name,
        status: 'not-tried',
        reason: used ? `${used.name} was chosen first` : `--backend ${wanted}`,
      });
      continue;
    }
    const outcome = await RUNGS[name]();
    if (outcome.ok) {
      used = { name, device: outcome.device };
      rungs.push({ name, status: 'used', device: outcome.device });
    } else {
      rungs.push({ name, status: 'unavailable', reason: outcome.reason });
    }
  }
  if (!used) {
    const why = rungs.find((rung) => rung.name === wanted)?.reason ?? 'no backend loaded';
    throw new PollardError('unsupported', `backend ${wanted}: ${why}`);
  }
  await tf.ready();
  chosen = { used: used.name, device: used.device, rungs };
  return chosen;
}

export function currentBackend(): BackendReport | undefined {
  return chosen;
}
