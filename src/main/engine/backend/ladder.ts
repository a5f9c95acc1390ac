/**
 * The backend ladder, decided once per job process:
 *   tensorflow (@tensorflow/tfjs-node-gpu, optional, CUDA) → webgpu (Dawn: any GPU driver; a
 *   software adapter only when forced) → wasm (+ Pollard's training kernels) → cpu.
 * Every rung that is not used records why, so `pollard info` and every report can say it.
 * The choice comes from the caller (`--backend`), else POLLARD_BACKEND, else auto.
 */
import type { BackendChoice, BackendName, BackendReport, BackendRung } from '../../../shared/types';
import { PollardError, usageError } from '../../../shared/errors';
import { tf } from '../tf';
import { registerBatchNormTraining } from './batch-norm-training';
import { registerDilatedConvGradients } from './dilated-conv-gradients';
import { simdKernelsUnavailable } from './simd/simd-kernels';
import {
  type RungOutcome,
  type TensorflowDeps,
  defaultTensorflowDeps,
  probeTensorflow,
} from './tensorflow-rung';
import { nativeKernelsStatus } from './native-conv';
import { loadOrtFfi } from './ort-ffi';
import { computeThreads } from './threads';
import { registerWasmBackend } from './wasm-backend';
import { type WebgpuDeps, defaultWebgpuDeps, probeWebgpu } from './webgpu-rung';

export interface LadderDeps {
  tensorflow: TensorflowDeps;
  webgpu?: WebgpuDeps;
}

const defaultDeps: LadderDeps = { tensorflow: defaultTensorflowDeps, webgpu: defaultWebgpuDeps };

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/**
 * From this many compute threads on, `auto` tries wasm before WebGPU. Measured on an NVIDIA
 * H200 beside 16 cores (README, "GPU"): tfjs's WebGPU backend pays a fixed cost per kernel
 * dispatch that a training step of hundreds of small kernels cannot hide, and even with
 * Pollard's WebGPU Adam, wasm's replicas trained LeNet 1.14× and ResNet-20 1.9× faster there
 * (VGG-small 0.86×). Below it WebGPU stays first (on 2 cores wasm's ResNet-20 is slower than
 * that GPU's).
 */
export const WASM_BEFORE_WEBGPU_THREADS = 16;

/** The order `auto` climbs for this many compute threads. */
export function autoOrder(threads: number): readonly BackendName[] {
  return threads >= WASM_BEFORE_WEBGPU_THREADS ? ['tensorflow', 'wasm', 'webgpu', 'cpu'] : BACKEND_ORDER;
}

let chosen: BackendReport | undefined;

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

async function tryWasm(): Promise<RungOutcome> {
  try {
    await registerWasmBackend();
    if (!(await tf.setBackend('wasm'))) return { ok: false, reason: 'failed to initialise' };
  } catch (error) {
    return { ok: false, reason: `failed to load: ${firstLine(error)}` };
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  // tfjs's wasm build is single-threaded in Node; Pollard runs one instance per replica thread.
  const threads = computeThreads();
  // Through ONNX Runtime's C API, or (where that cannot be bound) the binding, which copies every output.
  const native = nativeKernelsStatus().available
    ? `, convolutions in ONNX Runtime${loadOrtFfi().ok ? ' (C API)' : ' (binding)'}`
    : '';
  const own = simdKernelsUnavailable() === undefined ? ", Pollard's SIMD kernels" : '';
  return {
    ok: true,
    device: `WebAssembly${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'}${native}${own}`,
  };
}

async function tryCpu(): Promise<RungOutcome> {
  const ok = await tf.setBackend('cpu');
  return ok ? { ok: true, device: 'pure JavaScript' } : { ok: false, reason: 'failed to initialise' };
}

/** Tries one rung; on success it is the active tfjs backend afterwards. */
async function tryRung(name: BackendName, deps: LadderDeps, forced = false): Promise<RungOutcome> {
  if (name === 'tensorflow') {
    const outcome = await probeTensorflow(deps.tensorflow);
    // Loading tfjs-node selects its backend even where it is rejected (no CUDA device).
    if (outcome.ok && !(await tf.setBackend('tensorflow')))
      return { ok: false, reason: 'failed to initialise' };
    return outcome;
  }
  if (name === 'webgpu') {
    // A software adapter only when forced (or when this process already runs on it).
    const outcome = await probeWebgpu(forced || chosen?.used === 'webgpu', deps.webgpu ?? defaultWebgpuDeps);
    if (!outcome.ok) return { ok: false, reason: outcome.reason };
    if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: 'failed to initialise' };
    return { ok: true, device: outcome.device };
  }
  return name === 'wasm' ? tryWasm() : tryCpu();
}

function isBackendChoice(value: string): value is BackendChoice {
  return value === 'auto' || (BACKEND_ORDER as readonly string[]).includes(value);
}

/** Resolve the choice from the argument, then POLLARD_BACKEND, then 'auto'. */
export function resolveBackendChoice(
  choice: BackendChoice | string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): BackendChoice {
  const fromEnv = env.POLLARD_BACKEND === '' ? undefined : env.POLLARD_BACKEND;
  const [source, value] =
    choice !== undefined && choice !== 'auto'
      ? ['--backend', choice]
      : fromEnv !== undefined
        ? ['POLLARD_BACKEND', fromEnv]
        : ['--backend', choice ?? 'auto'];
  if (!isBackendChoice(value)) {
    throw usageError(`${source}: unknown backend "${value}"; use auto, tensorflow, webgpu, wasm or cpu`);
  }
  return value;
}

/**
 * Climbs the ladder for `wanted`: with 'auto' the first rung that loads wins; a forced
 * backend that cannot load is an error naming it and the reason (never a silent fallback).
 */
export async function climbLadder(
  wanted: BackendChoice,
  attempt: (name: BackendName) => Promise<RungOutcome>,
  order: readonly BackendName[] = BACKEND_ORDER,
): Promise<BackendReport> {
  const rungs: BackendRung[] = [];
  let used: { name: BackendName; device: string } | undefined;
  for (const name of order) {
    if (used || (wanted !== 'auto' && wanted !== name)) {
      rungs.push({
        name,
        status: 'not-tried',
        reason: used ? `${used.name} was chosen first` : `--backend ${wanted}`,
      });
      continue;
    }
    const outcome = await attempt(name);
    if (outcome.ok) {
      used = { name, device: outcome.device };
      rungs.push({ name, status: 'used', device: outcome.device });
    } else {
      rungs.push({ name, status: 'unavailable', reason: outcome.reason });
    }
  }
  if (!used) {
    const why =
      wanted === 'auto'
        ? rungs.map((rung) => `${rung.name}: ${rung.reason ?? 'unavailable'}`).join('; ')
        : (rungs.find((rung) => rung.name === wanted)?.reason ?? 'unavailable');
    throw new PollardError('unsupported', `backend ${wanted}: ${why}`);
  }
  return { used: used.name, device: used.device, rungs };
}

/**
 * Chooses the backend for this process (once; later calls return the same report, and a
 * later call that forces a different backend is an error).
 */
export async function initBackend(
  choice: BackendChoice = 'auto',
  deps: LadderDeps = defaultDeps,
): Promise<BackendReport> {
  const wanted = resolveBackendChoice(choice);
  if (chosen) {
    if (wanted !== 'auto' && wanted !== chosen.used) {
      throw usageError(`backend ${wanted}: this process already runs on ${chosen.used}`);
    }
    return chosen;
  }
  registerDilatedConvGradients();
  registerBatchNormTraining();
  const report = await climbLadder(
    wanted,
    (name) => tryRung(name, deps, wanted === name),
    autoOrder(computeThreads()),
  );
  await tf.ready();
  chosen = report;
  return chosen;
}

/**
 * Every rung's availability for `pollard info`: loads each one to find out, then returns
 * to the backend that was active before. The rung this process runs on reads `used`.
 */
export async function probeBackends(deps: LadderDeps = defaultDeps): Promise<BackendReport['rungs']> {
  const engine = tf.engine() as unknown as { backendName: string | null };
  const active = engine.backendName;
  const rungs: BackendRung[] = [];
  for (const name of BACKEND_ORDER) {
    const outcome = await tryRung(name, deps);
    const status = !outcome.ok ? 'unavailable' : chosen?.used === name ? 'used' : 'available';
    rungs.push(
      outcome.ok ? { name, status, device: outcome.device } : { name, status, reason: outcome.reason },
    );
  }
  if (active !== null && tf.findBackend(active) !== null) await tf.setBackend(active);
  return rungs;
}
