/**
 * The top rung: @tensorflow/tfjs-node-gpu (optional dependency, CUDA). Loading it is not
 * enough: when the CUDA libraries or the driver are missing, libtensorflow quietly runs on
 * the CPU. tfjs-node's native binding lists TensorFlow's devices when it starts
 * (TFE_ContextListDevices) and exposes the result as `isUsingGpuDevice` on its backend
 * (NodeJSKernelBackend, tfjs-node/src/nodejs_kernel_backend.ts); that is what decides here.
 * The module loader and the GPU-name query are injectable so tests can stand in for a
 * machine with (or without) a GPU.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { tf } from '../tf';

export type RungOutcome = { ok: true; device: string } | { ok: false; reason: string };

export const TENSORFLOW_PACKAGE = '@tensorflow/tfjs-node-gpu';

export interface TensorflowDeps {
  /** Where the package is installed, or undefined when it is not. */
  resolve: () => string | undefined;
  /** Imports the package, which registers (and selects) the "tensorflow" backend. */
  load: (resolved: string) => Promise<unknown>;
  /** Names of the machine's NVIDIA GPUs, empty when they cannot be listed. */
  gpuNames: () => Promise<string[]>;
}

const require = createRequire(import.meta.url);

/** `nvidia-smi --query-gpu=name` (ships with the NVIDIA driver); [] when it is absent. */
export function nvidiaSmiGpuNames(): Promise<string[]> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name', '--format=csv,noheader'],
      { timeout: 5000, windowsHide: true },
      (error, stdout) => {
        if (error) return resolve([]);
        resolve(
          stdout
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => line !== ''),
        );
      },
    );
  });
}

export const defaultTensorflowDeps: TensorflowDeps = {
  resolve: () => {
    try {
      return require.resolve(TENSORFLOW_PACKAGE);
    } catch {
      return undefined;
    }
  },
  load: (resolved) => import(pathToFileURL(resolved).href),
  gpuNames: nvidiaSmiGpuNames,
};

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

/** The backend object tfjs-node registers; only the fields read here. */
interface NodeBackendFlags {
  isUsingGpuDevice?: unknown;
}

/** Loads the tensorflow rung if it can run on a CUDA GPU; never throws. */
export async function probeTensorflow(deps: TensorflowDeps = defaultTensorflowDeps): Promise<RungOutcome> {
  const resolved = deps.resolve();
  if (resolved === undefined) {
    return { ok: false, reason: `not installed (${TENSORFLOW_PACKAGE} is an optional dependency)` };
  }
  try {
    await deps.load(resolved);
  } catch (error) {
    return { ok: false, reason: `failed to load: ${firstLine(error)}` };
  }
  let backend: NodeBackendFlags | null;
  try {
    backend = tf.findBackend('tensorflow') as NodeBackendFlags | null;
  } catch (error) {
    return { ok: false, reason: `failed to initialise: ${firstLine(error)}` };
  }
  if (backend === null) {
    // It bundles its own copy of tfjs-core when the versions differ from Pollard's.
    return {
      ok: false,
      reason: `loaded, but it registered no "tensorflow" backend with this tfjs-core (${tf.version_core})`,
    };
  }
  if (backend.isUsingGpuDevice !== true) {
    return {
      ok: false,
      reason:
        'loaded, but no CUDA device found (TensorFlow fell back to the CPU: check the NVIDIA driver and the CUDA and cuDNN libraries)',
    };
  }
  const names = await deps.gpuNames();
  return { ok: true, device: names.length > 0 ? `CUDA: ${names.join(', ')}` : 'CUDA GPU' };
}
