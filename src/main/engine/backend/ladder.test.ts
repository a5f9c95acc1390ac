import { afterEach, describe, expect, it } from 'vitest';
import type { BackendName } from '../../../shared/types';
import { tf } from '../tf';
import { computeThreads } from './threads';
import { autoOrder, climbLadder, initBackend, probeBackends, resolveBackendChoice } from './ladder';
import {
  type RungOutcome,
  type TensorflowDeps,
  TENSORFLOW_PACKAGE,
  probeTensorflow,
} from './tensorflow-rung';
import type { WebgpuDeps } from './webgpu-rung';

/** A machine where Dawn finds no adapter (and no SwiftShader to fall back on). */
const noWebgpu: WebgpuDeps = {
  createGpu: async () => ({ requestAdapter: async () => null }),
  swiftshaderIcd: () => undefined,
  registerBackend: async () => {
    throw new Error('not in this test');
  },
  env: {},
};

/** Stands in for tfjs-node-gpu: loading registers a "tensorflow" backend with the given flag. */
function fakeTensorflow(options: {
  installed?: boolean;
  loadError?: Error;
  registers?: boolean;
  isUsingGpuDevice?: boolean;
  gpuNames?: string[];
}): TensorflowDeps & { loads: number } {
  const deps = {
    loads: 0,
    resolve: () =>
      options.installed === false ? undefined : '/fake/node_modules/@tensorflow/tfjs-node-gpu/index.js',
    load: async () => {
      deps.loads++;
      if (options.loadError) throw options.loadError;
      if (options.registers === false) return {};
      // Reuse the cpu backend's kernels under the name, so the fake can actually be selected.
      const cpu = tf.findBackend('cpu') as tf.KernelBackend;
      tf.registerBackend('tensorflow', () =>
        Object.assign(Object.create(cpu) as tf.KernelBackend, { isUsingGpuDevice: options.isUsingGpuDevice }),
      );
      return {};
    },
    gpuNames: async () => options.gpuNames ?? [],
  };
  return deps;
}

afterEach(() => {
  const registry = (tf.engine() as unknown as { registryFactory: Record<string, unknown> }).registryFactory;
  if ('tensorflow' in registry) tf.removeBackend('tensorflow');
});

describe('resolveBackendChoice', () => {
  it('prefers an explicit choice, then POLLARD_BACKEND, then auto', () => {
    expect(resolveBackendChoice('cpu', { POLLARD_BACKEND: 'wasm' })).toBe('cpu');
    expect(resolveBackendChoice('auto', { POLLARD_BACKEND: 'wasm' })).toBe('wasm');
    expect(resolveBackendChoice(undefined, { POLLARD_BACKEND: 'tensorflow' })).toBe('tensorflow');
    expect(resolveBackendChoice(undefined, {})).toBe('auto');
    expect(resolveBackendChoice(undefined, { POLLARD_BACKEND: '' })).toBe('auto');
  });

  it('names where an unknown backend came from', () => {
    expect(() => resolveBackendChoice(undefined, { POLLARD_BACKEND: 'vulkan' })).toThrow(
      'POLLARD_BACKEND: unknown backend "vulkan"; use auto, tensorflow, webgpu, wasm or cpu',
    );
    expect(() => resolveBackendChoice('gpu', {})).toThrow(
      '--backend: unknown backend "gpu"; use auto, tensorflow, webgpu, wasm or cpu',
    );
  });
});

describe('climbLadder', () => {
  const outcomes = (map: Partial<Record<BackendName, RungOutcome>>) => async (name: BackendName) =>
    map[name] ?? { ok: false as const, reason: 'not in this test' };

  it('auto takes the first rung that loads and says why the ones above failed', async () => {
    const report = await climbLadder(
      'auto',
      outcomes({
        tensorflow: { ok: false, reason: 'not installed' },
        webgpu: { ok: false, reason: 'no WebGPU adapter' },
        wasm: { ok: true, device: 'WebAssembly SIMD, 1 thread' },
        cpu: { ok: true, device: 'pure JavaScript' },
      }),
    );
    expect(report).toEqual({
      used: 'wasm',
      device: 'WebAssembly SIMD, 1 thread',
      rungs: [
        { name: 'tensorflow', status: 'unavailable', reason: 'not installed' },
        { name: 'webgpu', status: 'unavailable', reason: 'no WebGPU adapter' },
        { name: 'wasm', status: 'used', device: 'WebAssembly SIMD, 1 thread' },
        { name: 'cpu', status: 'not-tried', reason: 'wasm was chosen first' },
      ],
    });
  });

  it('a forced backend that cannot load is an error naming it and the reason', async () => {
    const attempt = outcomes({ tensorflow: { ok: false, reason: 'loaded, but no CUDA device found' } });
    await expect(climbLadder('tensorflow', attempt)).rejects.toThrow(
      'backend tensorflow: loaded, but no CUDA device found',
    );
    await expect(climbLadder('tensorflow', attempt)).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('a forced backend skips the others without trying them', async () => {
    const tried: BackendName[] = [];
    const report = await climbLadder('cpu', async (name) => {
      tried.push(name);
      return { ok: true, device: 'pure JavaScript' };
    });
    expect(tried).toEqual(['cpu']);
    expect(report.rungs.map((rung) => [rung.name, rung.status, rung.reason])).toEqual([
      ['tensorflow', 'not-tried', '--backend cpu'],
      ['webgpu', 'not-tried', '--backend cpu'],
      ['wasm', 'not-tried', '--backend cpu'],
      ['cpu', 'used', undefined],
    ]);
  });

  it('on 16 or more threads auto tries wasm before WebGPU (measured faster there), below it WebGPU first', async () => {
    expect(autoOrder(2)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(autoOrder(15)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(autoOrder(16)).toEqual(['tensorflow', 'wasm', 'webgpu', 'cpu']);
    const attempt = outcomes({
      tensorflow: { ok: false, reason: 'not installed' },
      webgpu: { ok: true, device: 'WebGPU: nvidia' },
      wasm: { ok: true, device: 'WebAssembly SIMD, 16 threads' },
    });
    const many = await climbLadder('auto', attempt, autoOrder(16));
    expect(many.used).toBe('wasm');
    expect(many.rungs.map((rung) => [rung.name, rung.status, rung.reason])).toEqual([
      ['tensorflow', 'unavailable', 'not installed'],
      ['wasm', 'used', undefined],
      ['webgpu', 'not-tried', 'wasm was chosen first'],
      ['cpu', 'not-tried', 'wasm was chosen first'],
    ]);
    expect((await climbLadder('auto', attempt, autoOrder(2))).used).toBe('webgpu');
    // A forced webgpu is still webgpu on any number of threads.
    expect((await climbLadder('webgpu', attempt, autoOrder(16))).used).toBe('webgpu');
  });

  it('auto with no rung at all lists every reason', async () => {
    await expect(climbLadder('auto', outcomes({}))).rejects.toThrow(
      'backend auto: tensorflow: not in this test; webgpu: not in this test; wasm: not in this test; cpu: not in this test',
    );
  });
});

describe('probeTensorflow', () => {
  it('reports a missing optional package', async () => {
    const deps = fakeTensorflow({ installed: false });
    expect(await probeTensorflow(deps)).toEqual({
      ok: false,
      reason: `not installed (${TENSORFLOW_PACKAGE} is an optional dependency)`,
    });
    expect(deps.loads).toBe(0);
  });

  it('reports a package that fails to load with the first line of its error', async () => {
    const error = new Error(
      'libtensorflow.so.2: cannot open shared object file: No such file or directory\n  at …',
    );
    expect(await probeTensorflow(fakeTensorflow({ loadError: error }))).toEqual({
      ok: false,
      reason: 'failed to load: libtensorflow.so.2: cannot open shared object file: No such file or directory',
    });
  });

  it('reports a package that registered its backend with another tfjs-core', async () => {
    expect(await probeTensorflow(fakeTensorflow({ registers: false }))).toEqual({
      ok: false,
      reason: `loaded, but it registered no "tensorflow" backend with this tfjs-core (${tf.version_core})`,
    });
  });

  it('rejects TensorFlow running on the CPU because no CUDA device was found', async () => {
    const outcome = await probeTensorflow(
      fakeTensorflow({ isUsingGpuDevice: false, gpuNames: ['NVIDIA T4'] }),
    );
    expect(outcome).toEqual({
      ok: false,
      reason:
        'loaded, but no CUDA device found (TensorFlow fell back to the CPU: check the NVIDIA driver and the CUDA and cuDNN libraries)',
    });
  });

  it('names the GPU when TensorFlow uses one', async () => {
    expect(
      await probeTensorflow(fakeTensorflow({ isUsingGpuDevice: true, gpuNames: ['NVIDIA RTX A6000'] })),
    ).toEqual({
      ok: true,
      device: 'CUDA: NVIDIA RTX A6000',
    });
    tf.removeBackend('tensorflow');
    expect(await probeTensorflow(fakeTensorflow({ isUsingGpuDevice: true, gpuNames: [] }))).toEqual({
      ok: true,
      device: 'CUDA GPU',
    });
  });
});

describe('probeBackends', () => {
  it('reports every rung and returns to the backend that was active', async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    const rungs = await probeBackends({
      tensorflow: fakeTensorflow({ isUsingGpuDevice: false }),
      webgpu: noWebgpu,
    });
    expect(rungs.map((rung) => [rung.name, rung.status])).toEqual([
      ['tensorflow', 'unavailable'],
      ['webgpu', 'unavailable'],
      ['wasm', 'available'],
      ['cpu', 'available'],
    ]);
    expect(rungs[0]?.reason).toMatch(/^loaded, but no CUDA device found/);
    expect(rungs[1]?.reason).toMatch(/^no WebGPU adapter/);
    expect(rungs[2]?.device).toBe(
      `WebAssembly SIMD, ${computeThreads()} thread${computeThreads() === 1 ? '' : 's'}, convolutions in ONNX Runtime (C API), Pollard's SIMD kernels`,
    );
    expect(rungs[3]?.device).toBe('pure JavaScript');
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('initBackend', () => {
  it('uses a CUDA tensorflow rung when there is one, and then keeps it for the process', async () => {
    const report = await initBackend('auto', {
      tensorflow: fakeTensorflow({ isUsingGpuDevice: true, gpuNames: ['NVIDIA RTX A6000'] }),
      webgpu: noWebgpu,
    });
    expect(report.used).toBe('tensorflow');
    expect(report.device).toBe('CUDA: NVIDIA RTX A6000');
    expect(report.rungs.map((rung) => rung.status)).toEqual(['used', 'not-tried', 'not-tried', 'not-tried']);
    expect(tf.getBackend()).toBe('tensorflow');
    expect(await initBackend('auto')).toBe(report);
    await expect(initBackend('wasm')).rejects.toThrow(
      'backend wasm: this process already runs on tensorflow',
    );
  });
});
