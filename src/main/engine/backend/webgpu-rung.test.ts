/**
 * The webgpu rung's decision, with Dawn, the SwiftShader search and the tfjs backend
 * replaced by fakes: which adapter it takes, which it refuses and why, and what it says.
 */
import { describe, expect, it } from 'vitest';
import { climbLadder } from './ladder';
import {
  type GpuAdapterLike,
  type WebgpuDeps,
  adapterDeviceString,
  describeAdapter,
  probeWebgpu,
} from './webgpu-rung';

const GIB = 2 ** 30;

const nvidia: GpuAdapterLike = {
  info: {
    vendor: 'nvidia',
    architecture: 'ampere',
    description: 'NVIDIA RTX A6000',
    isFallbackAdapter: false,
  },
  limits: { maxBufferSize: 4 * GIB, maxStorageBufferBindingSize: 2 * GIB },
};

const swiftshader: GpuAdapterLike = {
  info: {
    vendor: 'google',
    architecture: 'swiftshader',
    description: 'SwiftShader driver 5.0.0',
    isFallbackAdapter: true,
  },
  limits: { maxBufferSize: GIB, maxStorageBufferBindingSize: GIB },
};

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * A machine whose Dawn finds `hardware` (or nothing), and SwiftShader once VK_ICD_FILENAMES
 * names Chromium's manifest (when `chromium` is installed).
 */
function fakeMachine(options: {
  hardware?: GpuAdapterLike;
  chromium?: boolean;
  env?: NodeJS.ProcessEnv;
  loadError?: Error;
  registerError?: Error;
}): WebgpuDeps & { registered: GpuAdapterLike[]; created: number; env: NodeJS.ProcessEnv } {
  const env = options.env ?? {};
  const deps = {
    env,
    created: 0,
    registered: [] as GpuAdapterLike[],
    createGpu: async () => {
      if (options.loadError) throw options.loadError;
      deps.created++;
      const icd = env.VK_ICD_FILENAMES;
      return {
        requestAdapter: async () =>
          options.hardware ?? (icd !== undefined && icd.includes('swiftshader') ? swiftshader : null),
      };
    },
    swiftshaderIcd: () => (options.chromium ? ICD : undefined),
    registerBackend: async (adapter: GpuAdapterLike) => {
      if (options.registerError) throw options.registerError;
      deps.registered.push(adapter);
    },
  };
  return deps;
}

describe('probeWebgpu', () => {
  it('takes a hardware adapter and names it with its limits', async () => {
    const machine = fakeMachine({ hardware: nvidia });
    const outcome = await probeWebgpu(false, machine);
    expect(outcome).toMatchObject({
      ok: true,
      device: 'WebGPU: nvidia ampere (NVIDIA RTX A6000), buffers up to 4096 MiB (binding 2048 MiB)',
    });
    expect(machine.registered).toEqual([nvidia]);
    expect(machine.created).toBe(1);
    expect(machine.env).toEqual({});
  });

  it('never chooses a software adapter automatically, and says so', async () => {
    const machine = fakeMachine({ chromium: true });
    const outcome = await probeWebgpu(false, machine);
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'software adapter (SwiftShader): for tests only; --backend webgpu forces it',
      adapter: { vendor: 'google', isFallbackAdapter: true, swiftshaderFromChromium: true },
    });
    expect(machine.registered).toEqual([]);
    // The variables it set for the search are taken back when the rung is not used.
    expect(machine.env).toEqual({});
  });

  it('--backend webgpu forces the software adapter, found through Chromium’s SwiftShader', async () => {
    const machine = fakeMachine({ chromium: true });
    const outcome = await probeWebgpu(true, machine);
    expect(outcome).toMatchObject({
      ok: true,
      device:
        'WebGPU: google swiftshader (SwiftShader driver 5.0.0), software fallback adapter, buffers up to 1024 MiB (binding 1024 MiB)',
    });
    expect(machine.created).toBe(2);
    expect(machine.env.VK_ICD_FILENAMES).toBe(ICD);
    expect(machine.env.XDG_RUNTIME_DIR).toBeDefined();
  });

  it('does not search for SwiftShader over a VK_ICD_FILENAMES the user set', async () => {
    const machine = fakeMachine({ chromium: true, env: { VK_ICD_FILENAMES: '/opt/vendor/icd.json' } });
    const outcome = await probeWebgpu(true, machine);
    expect(outcome).toEqual({
      ok: false,
      reason: 'no WebGPU adapter (Dawn found no Vulkan, Metal or Direct3D 12 GPU driver)',
    });
    expect(machine.created).toBe(1);
    expect(machine.env).toEqual({ VK_ICD_FILENAMES: '/opt/vendor/icd.json' });
  });

  it('says why there is no adapter at all', async () => {
    expect(await probeWebgpu(true, fakeMachine({}))).toEqual({
      ok: false,
      reason: 'no WebGPU adapter (Dawn found no Vulkan, Metal or Direct3D 12 GPU driver)',
    });
    const withChromium = fakeMachine({ chromium: true });
    withChromium.createGpu = async () => ({ requestAdapter: async () => null });
    expect(await probeWebgpu(true, withChromium)).toEqual({
      ok: false,
      reason:
        "no WebGPU adapter (Dawn found no Vulkan, Metal or Direct3D 12 GPU driver, nor Chromium's SwiftShader)",
    });
    expect(withChromium.env).toEqual({});
  });

  it('reports Dawn failing to load, and the backend failing to initialise', async () => {
    const error = new Error('dawn.node: libvulkan.so.1: cannot open shared object file\n  at …');
    expect(await probeWebgpu(false, fakeMachine({ loadError: error }))).toEqual({
      ok: false,
      reason: 'failed to load Dawn (webgpu): dawn.node: libvulkan.so.1: cannot open shared object file',
    });
    expect(
      await probeWebgpu(
        false,
        fakeMachine({ hardware: nvidia, registerError: new Error('requestDevice failed') }),
      ),
    ).toMatchObject({ ok: false, reason: 'failed to initialise: requestDevice failed' });
  });

  it('reads the fallback flag where older implementations put it (on the adapter)', () => {
    const legacy = {
      info: { vendor: 'mesa', architecture: 'llvmpipe' },
      isFallbackAdapter: true,
      limits: nvidia.limits,
    };
    expect(describeAdapter(legacy).isFallbackAdapter).toBe(true);
    expect(adapterDeviceString(describeAdapter({ limits: nvidia.limits }))).toBe(
      'WebGPU: adapter, buffers up to 4096 MiB (binding 2048 MiB)',
    );
  });
});

describe('the ladder with a webgpu rung', () => {
  it('auto goes from tensorflow to webgpu to wasm', async () => {
    const report = await climbLadder('auto', async (name) =>
      name === 'webgpu'
        ? { ok: false, reason: 'software adapter (SwiftShader): for tests only; --backend webgpu forces it' }
        : name === 'wasm'
          ? { ok: true, device: 'WebAssembly SIMD, 1 thread' }
          : { ok: false, reason: 'not installed' },
    );
    expect(report.used).toBe('wasm');
    expect(report.rungs.map((rung) => [rung.name, rung.status])).toEqual([
      ['tensorflow', 'unavailable'],
      ['webgpu', 'unavailable'],
      ['wasm', 'used'],
      ['cpu', 'not-tried'],
    ]);
  });
});
