/**
 * NVIDIA GPUs through NVML, called in-process with koffi (no native build). Volta and newer expose
 * a total-energy counter in millijoules (`measured:counter`); older GPUs answer NOT_SUPPORTED and
 * are sampled instead: `nvmlDeviceGetPowerUsage` (milliwatts) every 100 ms, integrated
 * (`measured:sampled`). The library is loaded lazily and the loader is injectable for tests.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import { TraceReader } from './trace-reader';
import {
  errorMessage,
  systemClock,
  type Clock,
  type EnergyPart,
  type EnergyReader,
  type EnergySource,
  type ProbeResult,
  type ReaderMark,
} from './types';

export const NVML_SUCCESS = 0;

/** The NVML calls Pollard uses, each returning NVML's status code first. */
export interface NvmlApi {
  init(): number;
  shutdown(): number;
  errorString(status: number): string;
  deviceCount(): { status: number; count: number };
  deviceHandle(index: number): { status: number; handle: unknown };
  deviceName(handle: unknown): { status: number; name: string };
  /** Millijoules since the driver was loaded (Volta and newer). */
  totalEnergyMillijoules(handle: unknown): { status: number; millijoules: number };
  /** Milliwatts, board power. */
  powerMilliwatts(handle: unknown): { status: number; milliwatts: number };
}

/** Loads NVML; throws an Error whose message says why it could not. */
export type NvmlLoader = () => NvmlApi;

export function nvmlLibraryNames(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') {
    return ['nvml.dll', 'C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvml.dll'];
  }
  if (platform === 'linux') return ['libnvidia-ml.so.1'];
  return [];
}

/** The real loader: koffi bindings to libnvidia-ml.so.1 / nvml.dll (or `libraryPath`). */
export function loadNvmlWithKoffi(
  libraryPath?: string,
  platform: NodeJS.Platform = process.platform,
): NvmlApi {
  const names = libraryPath !== undefined ? [libraryPath] : nvmlLibraryNames(platform);
  if (names.length === 0) throw new Error(`NVML is not available on ${platform}`);
  // koffi is loaded here, not at module load, so nothing native is touched unless NVML is wanted.
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  let lib: ReturnType<typeof koffi.load> | undefined;
  const failures: string[] = [];
  for (const name of names) {
    try {
      lib = koffi.load(name);
      break;
    } catch (error) {
      failures.push(
        `${name} ${/No such file|cannot open|not find|not found/i.test(errorMessage(error)) ? 'not found' : errorMessage(error)}`,
      );
    }
  }
  if (!lib) throw new Error(failures.join('; '));
  const device = koffi.pointer(koffi.opaque());
  const init = lib.func('int nvmlInit_v2()');
  const shutdown = lib.func('int nvmlShutdown()');
  const errorString = lib.func('const char *nvmlErrorString(int result)');
  const getCount = lib.func('nvmlDeviceGetCount_v2', 'int', [koffi.out(koffi.pointer('uint32_t'))]);
  const getHandle = lib.func('nvmlDeviceGetHandleByIndex_v2', 'int', [
    'uint32_t',
    koffi.out(koffi.pointer(device)),
  ]);
  const getName = lib.func('nvmlDeviceGetName', 'int', [
    device,
    koffi.out(koffi.pointer('char')),
    'uint32_t',
  ]);
  const getEnergy = lib.func('nvmlDeviceGetTotalEnergyConsumption', 'int', [
    device,
    koffi.out(koffi.pointer('uint64_t')),
  ]);
  const getPower = lib.func('nvmlDeviceGetPowerUsage', 'int', [device, koffi.out(koffi.pointer('uint32_t'))]);
  return {
    init: () => init() as number,
    shutdown: () => shutdown() as number,
    errorString: (status) => String(errorString(status)),
    deviceCount() {
      const out = [0];
      const status = getCount(out) as number;
      return { status, count: Number(out[0]) };
    },
    deviceHandle(index) {
      const out: unknown[] = [null];
      const status = getHandle(index, out) as number;
      return { status, handle: out[0] };
    },
    deviceName(handle) {
      const buffer = Buffer.alloc(96); // NVML_DEVICE_NAME_V2_BUFFER_SIZE
      const status = getName(handle, buffer, buffer.length) as number;
      const end = buffer.indexOf(0);
      return { status, name: buffer.subarray(0, end < 0 ? buffer.length : end).toString('utf8') };
    },
    totalEnergyMillijoules(handle) {
      const out = [0];
      const status = getEnergy(handle, out) as number;
      return { status, millijoules: Number(out[0]) };
    },
    powerMilliwatts(handle) {
      const out = [0];
      const status = getPower(handle, out) as number;
      return { status, milliwatts: Number(out[0]) };
    },
  };
}

interface NvmlGpu {
  index: number;
  name: string;
  handle: unknown;
  counter: boolean;
}

export interface NvmlOptions {
  load?: NvmlLoader;
  clock?: Clock;
  /** Power sampling interval where there is no energy counter. */
  intervalMs?: number;
}

class NvmlCounterReader implements EnergyReader {
  readonly id = 'nvml';
  readonly label = 'measured:counter' as const;
  readonly covers: readonly EnergyPart[] = ['gpu'];
  private readonly start: number[];
  private wattsValue: number | null = null;
  private wattsFrom: { at: number; joules: number };
  private failed: string | null = null;

  constructor(
    private readonly api: NvmlApi,
    private readonly gpus: NvmlGpu[],
    readonly source: string,
    private readonly clock: Clock,
  ) {
    this.start = gpus.map((gpu) => this.read(gpu));
    this.wattsFrom = { at: this.clock(), joules: 0 };
  }

  private read(gpu: NvmlGpu): number {
    const { status, millijoules } = this.api.totalEnergyMillijoules(gpu.handle);
    if (status !== NVML_SUCCESS) {
      throw new Error(
        `nvmlDeviceGetTotalEnergyConsumption(GPU ${gpu.index}): ${this.api.errorString(status)}`,
      );
    }
    return millijoules;
  }

  mark(): ReaderMark {
    const at = this.clock();
    if (this.failed !== null) return { at, joules: null };
    let joules = 0;
    try {
      this.gpus.forEach((gpu, i) => {
        joules += (this.read(gpu) - this.start[i]!) / 1000;
      });
    } catch (error) {
      this.failed = errorMessage(error);
      return { at, joules: null };
    }
    if (at - this.wattsFrom.at >= 1000) {
      this.wattsValue = (joules - this.wattsFrom.joules) / ((at - this.wattsFrom.at) / 1000);
      this.wattsFrom = { at, joules };
    }
    return { at, joules };
  }

  joulesBetween(from: ReaderMark, to: ReaderMark): number | null {
    return from.joules === null || to.joules === null ? null : to.joules - from.joules;
  }

  watts(): number | null {
    return this.wattsValue;
  }

  failure(): string | null {
    return this.failed;
  }

  async settle(): Promise<void> {}

  async close(): Promise<void> {
    this.api.shutdown();
  }
}

export class NvmlSource implements EnergySource {
  readonly id = 'nvml';
  readonly name = 'NVIDIA GPU (NVML)';
  readonly kind = 'measured' as const;
  readonly covers = ['gpu'] as const;
  private readonly load: NvmlLoader;
  private readonly clock: Clock;
  private readonly intervalMs: number;

  constructor(options: NvmlOptions = {}) {
    this.load = options.load ?? (() => loadNvmlWithKoffi());
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 100;
  }

  /** Initialises NVML and lists the GPUs; the caller shuts NVML down. Throws with the reason. */
  private connect(): { api: NvmlApi; gpus: NvmlGpu[] } {
    let api: NvmlApi;
    try {
      api = this.load();
    } catch (error) {
      throw new Error(`NVML could not be loaded: ${errorMessage(error)}`);
    }
    const status = api.init();
    if (status !== NVML_SUCCESS) throw new Error(`nvmlInit_v2 failed: ${api.errorString(status)}`);
    try {
      const { status: countStatus, count } = api.deviceCount();
      if (countStatus !== NVML_SUCCESS)
        throw new Error(`nvmlDeviceGetCount_v2 failed: ${api.errorString(countStatus)}`);
      if (count === 0) throw new Error('NVML reports no GPU');
      const gpus: NvmlGpu[] = [];
      for (let index = 0; index < count; index++) {
        const { status: handleStatus, handle } = api.deviceHandle(index);
        if (handleStatus !== NVML_SUCCESS) {
          throw new Error(`nvmlDeviceGetHandleByIndex_v2(${index}) failed: ${api.errorString(handleStatus)}`);
        }
        const named = api.deviceName(handle);
        const name = named.status === NVML_SUCCESS ? named.name : `GPU ${index}`;
        const energy = api.totalEnergyMillijoules(handle);
        if (energy.status === NVML_SUCCESS) {
          gpus.push({ index, name, handle, counter: true });
          continue;
        }
        const power = api.powerMilliwatts(handle);
        if (power.status !== NVML_SUCCESS) {
          throw new Error(
            `GPU ${index} (${name}) reports neither energy nor power: ${api.errorString(power.status)}`,
          );
        }
        gpus.push({ index, name, handle, counter: false });
      }
      return { api, gpus };
    } catch (error) {
      api.shutdown();
      throw error;
    }
  }

  async probe(): Promise<ProbeResult> {
    try {
      const { api, gpus } = this.connect();
      api.shutdown();
      const counter = gpus.every((gpu) => gpu.counter);
      return { ok: true, detail: describe(gpus), label: counter ? 'measured:counter' : 'measured:sampled' };
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  }

  async open(): Promise<EnergyReader> {
    const { api, gpus } = this.connect();
    const source = `NVML ${describe(gpus)}`;
    if (gpus.every((gpu) => gpu.counter)) return new NvmlCounterReader(api, gpus, source, this.clock);

    // Some GPU lacks the counter: sample every GPU's power so all are measured the same way.
    const reader = new TraceReader({
      id: this.id,
      source,
      covers: this.covers,
      clock: this.clock,
      intervalMs: this.intervalMs,
      stop: async () => {
        clearInterval(timer);
        api.shutdown();
      },
    });
    const sample = (): void => {
      const at = this.clock();
      for (const gpu of gpus) {
        const { status, milliwatts } = api.powerMilliwatts(gpu.handle);
        if (status === NVML_SUCCESS) reader.add(milliwatts / 1000, at, gpu.index);
        else reader.fail(`nvmlDeviceGetPowerUsage(GPU ${gpu.index}): ${api.errorString(status)}`);
      }
    };
    sample();
    const timer = setInterval(sample, this.intervalMs);
    timer.unref();
    return reader;
  }
}

function describe(gpus: NvmlGpu[]): string {
  return gpus
    .map((gpu) => `GPU ${gpu.index} (${gpu.name}, ${gpu.counter ? 'energy counter' : 'power sampled'})`)
    .join(', ');
}
