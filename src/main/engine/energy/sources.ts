/**
 * The energy sources Pollard knows, in order of preference, and the list `pollard info` shows:
 * each source as working (with what it reads) or unavailable (with why).
 */
import type { EnergyLabel } from '../../../shared/types';
import { CpuTdpSource, type CpuTdpOptions } from './cpu-tdp';
import { NvidiaSmiSource } from './nvidia-smi';
import { loadNvmlWithKoffi, NvmlSource, type NvmlLoader } from './nvml';
import { PowermetricsSource } from './powermetrics';
import { RaplSource } from './rapl';
import { errorMessage, type Clock, type EnergyPart, type EnergySource } from './types';

export interface EnergySourceOptions {
  /** Default /sys/class/powercap. */
  powercapRoot?: string;
  /** Default: nvidia-smi on PATH. */
  nvidiaSmi?: string;
  /** Default: libnvidia-ml.so.1 / nvml.dll through koffi. */
  loadNvml?: NvmlLoader;
  /** Default: POLLARD_POWERMETRICS=1. */
  powermetrics?: boolean;
  cpu?: CpuTdpOptions;
  platform?: NodeJS.Platform;
  clock?: Clock;
}

/** Measured sources first (CPU and DRAM, then GPU: NVML before nvidia-smi), then the CPU model. */
export function defaultEnergySources(options: EnergySourceOptions = {}): EnergySource[] {
  const platform = options.platform ?? process.platform;
  const clock = options.clock;
  return [
    new RaplSource({ root: options.powercapRoot, platform, clock }),
    new NvmlSource({ load: options.loadNvml ?? (() => loadNvmlWithKoffi(undefined, platform)), clock }),
    new NvidiaSmiSource({ executable: options.nvidiaSmi, platform, clock }),
    new PowermetricsSource({ enabled: options.powermetrics, platform, clock }),
    // This job's own CPU time (its process: training replicas and wasm threads are threads of
    // it), so a shared machine does not charge the job for other work.
    new CpuTdpSource({ clock, scope: 'process', ...options.cpu }),
  ];
}

export interface EnergySourceInfo {
  id: string;
  name: string;
  kind: 'measured' | 'modelled';
  covers: EnergyPart[];
  status: 'working' | 'unavailable';
  /** The label this source's figures carry here; `unavailable` when it does not work. */
  label: EnergyLabel;
  detail?: string;
  reason?: string;
}

export async function probeEnergySources(
  sources: EnergySource[] = defaultEnergySources(),
): Promise<EnergySourceInfo[]> {
  return Promise.all(
    sources.map(async (source): Promise<EnergySourceInfo> => {
      const base = { id: source.id, name: source.name, kind: source.kind, covers: [...source.covers] };
      try {
        const result = await source.probe();
        return result.ok
          ? { ...base, status: 'working', label: result.label, detail: result.detail }
          : { ...base, status: 'unavailable', label: 'unavailable', reason: result.reason };
      } catch (error) {
        return { ...base, status: 'unavailable', label: 'unavailable', reason: errorMessage(error) };
      }
    }),
  );
}
