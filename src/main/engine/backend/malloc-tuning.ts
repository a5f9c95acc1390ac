/**
 * glibc malloc settings for a process that runs the native (ONNX Runtime) kernels.
 *
 * onnxruntime-node copies every output of a run into a new ArrayBuffer (even an output given
 * preallocated, which it also fills), so each native convolution allocates and frees a buffer
 * of its output's size, megabytes at batch 64. glibc serves such blocks with fresh mmap pages
 * (or returns the freed heap top to the system), and every page is then faulted in again:
 * measured on a ResNet-20 training step here, 3,600–9,800 page faults and 26–70 ms of system
 * time per step. With large blocks served from the heap and the freed top kept (mallopt's
 * M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD), the same step took 800 faults and 11 ms.
 *
 * Applied through koffi (an FFI library Pollard already uses for NVML) on Linux with glibc only;
 * elsewhere, or where the call fails, nothing changes.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

const M_TRIM_THRESHOLD = -1;
const M_TOP_PAD = -2;
const M_MMAP_THRESHOLD = -3;
/** Largest block served by mmap from now on: above any activation of a batch that fits in memory. */
const MMAP_THRESHOLD_BYTES = 1 << 30;
const TRIM_THRESHOLD_BYTES = 2 ** 31 - 1;
const TOP_PAD_BYTES = 64 << 20;

export interface MallocTuning {
  applied: boolean;
  reason?: string;
}

let outcome: MallocTuning | undefined;

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

function apply(): MallocTuning {
  if (process.platform !== 'linux') return { applied: false, reason: `not Linux (${process.platform})` };
  if (glibcVersion() === undefined) return { applied: false, reason: 'not glibc' };
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
    const libc = koffi.load('libc.so.6');
    const mallopt = libc.func('int mallopt(int param, int value)') as (
      param: number,
      value: number,
    ) => number;
    // mallopt returns 1 on success.
    const ok =
      mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1 &&
      mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) === 1 &&
      mallopt(M_TOP_PAD, TOP_PAD_BYTES) === 1;
    return ok ? { applied: true } : { applied: false, reason: 'mallopt refused a setting' };
  } catch (error) {
    return { applied: false, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

/** Applies the settings once per process (idempotent); returns what happened. */
export function tuneMallocForNativeKernels(): MallocTuning {
  outcome ??= apply();
  return outcome;
}
