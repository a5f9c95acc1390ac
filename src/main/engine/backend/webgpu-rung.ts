/**
 * The GPU rung that needs only a GPU driver: WebGPU through Dawn (the npm package `webgpu`,
 * whose native addon `dawn.node` ships inside the package for linux-x64, darwin and win32)
 * with @tensorflow/tfjs-backend-webgpu. Dawn runs on Vulkan (Linux), Metal (macOS) or
 * Direct3D 12 (Windows).
 *
 * A software (fallback) adapter is never chosen automatically: it is far slower than the
 * wasm rung and is there for tests. `--backend webgpu` forces it.
 *
 * Where Dawn finds no adapter at all and the user has not set VK_ICD_FILENAMES, the rung
 * looks for the SwiftShader Vulkan driver that Chromium installs (Debian's `chromium`
 * package puts `vk_swiftshader_icd.json` in /usr/lib/chromium) and, if it is there, points
 * VK_ICD_FILENAMES at it (and sets XDG_RUNTIME_DIR when unset, which the Vulkan loader
 * wants) before asking Dawn once more. That is how CI, which has no GPU, runs the webgpu
 * tests; the variables are restored when the rung is not used. Dawn also needs the Vulkan
 * loader, `libvulkan.so.1` (Debian: `libvulkan1`, installed with any Vulkan driver).
 *
 * Loading Dawn, finding the SwiftShader driver and registering the tfjs backend are
 * injectable so tests can stand in for machines with and without a GPU.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { tf } from '../tf';
import type { RungOutcome } from './tensorflow-rung';
import { registerWebgpuTrainingKernels } from './webgpu-kernels';

/** The fields of WebGPU's GPUAdapterInfo read here. */
export interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** The parts of WebGPU's GPUAdapter read here. */
export interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  /** Older WebGPU implementations put the flag on the adapter itself. */
  isFallbackAdapter?: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

export interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'high-performance' | 'low-power';
  }): Promise<GpuAdapterLike | null>;
}

export interface WebgpuDeps {
  /** Loads Dawn and returns a fresh WebGPU entry point (`navigator.gpu`), globals installed. */
  createGpu: () => Promise<GpuLike>;
  /** Chromium's SwiftShader Vulkan driver manifest, when one is installed. */
  swiftshaderIcd: () => string | undefined;
  /** Registers tfjs's "webgpu" backend on this adapter (creating its device); does not select it. */
  registerBackend: (adapter: GpuAdapterLike) => Promise<void>;
  /** The environment the Vulkan loader reads; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What `pollard info` and the job reports say about the adapter. */
export interface WebgpuAdapterDescription {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  /** True when the rung pointed Vulkan at Chromium's SwiftShader itself. */
  swiftshaderFromChromium: boolean;
}

/** Where Chromium packages put SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD_CANDIDATES: readonly string[] = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/** The webgpu backend's tfjs package; its node bundle needs `navigator.gpu` before it loads. */
interface WebgpuBackendModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

/** Requests a device with the limits tfjs-backend-webgpu asks for, as its own factory does. */
interface DeviceRequester {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor: unknown): Promise<{ lost: Promise<{ reason: string; message: string }> }>;
}

let deviceLost: string | undefined;

/** Why the webgpu device was lost (`GPUDevice.lost`), once it has been; a job then fails. */
export function webgpuDeviceLost(): string | undefined {
  return deviceLost;
}

async function createDawnGpu(): Promise<GpuLike> {
  const { create, globals } = (await import('webgpu')) as unknown as {
    create: (flags: string[]) => GpuLike;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  // Node 20 has no `navigator`; Node 21+ has one without `gpu`.
  const holder = globalThis as { navigator?: object };
  holder.navigator ??= {};
  Object.defineProperty(holder.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return gpu;
}

async function registerTfjsWebgpu(adapter: GpuAdapterLike): Promise<void> {
  // Importing the package registers its own factory (which asks navigator.gpu for an adapter
  // again, at priority 3): replace it with one bound to the adapter chosen here.
  const { WebGPUBackend } =
    (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as WebgpuBackendModule;
  const requester = adapter as unknown as DeviceRequester;
  const limits = requester.limits;
  const device = await requester.requestDevice({
    requiredFeatures: ['timestamp-query'].filter((name) => requester.features.has(name)),
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      // More inputs per shader (AddN, Concat) where the adapter allows; 8 is the default.
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') deviceLost = `WebGPU device lost: ${info.message || info.reason}`;
  });
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info), 0);
  registerWebgpuTrainingKernels();
}

export const defaultWebgpuDeps: WebgpuDeps = {
  createGpu: createDawnGpu,
  swiftshaderIcd: () => SWIFTSHADER_ICD_CANDIDATES.find((file) => existsSync(file)),
  registerBackend: registerTfjsWebgpu,
};

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

export function describeAdapter(
  adapter: GpuAdapterLike,
  swiftshaderFromChromium = false,
): WebgpuAdapterDescription {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? info.device ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    swiftshaderFromChromium,
  };
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** "WebGPU: nvidia ampere (NVIDIA RTX A6000), buffers up to 4096 MiB (binding 2048 MiB)". */
export function adapterDeviceString(adapter: WebgpuAdapterDescription): string {
  const name = [adapter.vendor, adapter.architecture].filter((part) => part !== '').join(' ') || 'adapter';
  const description = adapter.description === '' ? '' : ` (${adapter.description})`;
  const software = adapter.isFallbackAdapter ? ', software fallback adapter' : '';
  return (
    `WebGPU: ${name}${description}${software}, buffers up to ${mib(adapter.maxBufferSize)}` +
    ` (binding ${mib(adapter.maxStorageBufferBindingSize)})`
  );
}

function softwareName(adapter: WebgpuAdapterDescription): string {
  const text = `${adapter.vendor} ${adapter.architecture} ${adapter.description}`;
  if (/swiftshader/i.test(text)) return 'SwiftShader';
  return adapter.description || adapter.architecture || 'fallback';
}

let chosenAdapter: WebgpuAdapterDescription | undefined;

/** The adapter the webgpu backend was registered on, for batch sizing and reports. */
export function webgpuAdapter(): WebgpuAdapterDescription | undefined {
  return chosenAdapter;
}

async function requestAdapter(gpu: GpuLike): Promise<GpuAdapterLike | null> {
  return gpu.requestAdapter({ powerPreference: 'high-performance' });
}

/**
 * Finds a WebGPU adapter and registers the tfjs backend on it; never throws. `force` is
 * `--backend webgpu`: only then is a software (fallback) adapter accepted.
 */
export async function probeWebgpu(
  force: boolean,
  deps: WebgpuDeps = defaultWebgpuDeps,
): Promise<RungOutcome & { adapter?: WebgpuAdapterDescription }> {
  // Registered once per process: its device lives as long as the backend.
  if (
    chosenAdapter &&
    tf.findBackendFactory('webgpu') !== null &&
    (force || !chosenAdapter.isFallbackAdapter)
  ) {
    return { ok: true, device: adapterDeviceString(chosenAdapter), adapter: chosenAdapter };
  }
  const env = deps.env ?? process.env;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await requestAdapter(await deps.createGpu());
  } catch (error) {
    return { ok: false, reason: `failed to load Dawn (webgpu): ${firstLine(error)}` };
  }
  // The fallback search for CI and test machines (see the header); never over the user's choice.
  const saved = { VK_ICD_FILENAMES: env.VK_ICD_FILENAMES, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR };
  let fromChromium = false;
  if (adapter === null && (env.VK_ICD_FILENAMES ?? '') === '') {
    const icd = deps.swiftshaderIcd();
    if (icd !== undefined) {
      env.VK_ICD_FILENAMES = icd;
      env.XDG_RUNTIME_DIR ??= os.tmpdir();
      fromChromium = true;
      try {
        adapter = await requestAdapter(await deps.createGpu());
      } catch {
        adapter = null;
      }
    }
  }
  const restore = () => {
    if (!fromChromium) return;
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  };
  if (adapter === null) {
    restore();
    return {
      ok: false,
      reason:
        'no WebGPU adapter (Dawn found no Vulkan, Metal or Direct3D 12 GPU driver' +
        (fromChromium ? ", nor Chromium's SwiftShader)" : ')'),
    };
  }
  const description = describeAdapter(adapter, fromChromium);
  if (description.isFallbackAdapter && !force) {
    restore();
    return {
      ok: false,
      reason: `software adapter (${softwareName(description)}): for tests only; --backend webgpu forces it`,
      adapter: description,
    };
  }
  try {
    await deps.registerBackend(adapter);
  } catch (error) {
    restore();
    return { ok: false, reason: `failed to initialise: ${firstLine(error)}`, adapter: description };
  }
  chosenAdapter = description;
  return { ok: true, device: adapterDeviceString(description), adapter: description };
}
