/** `info` job: every backend rung (used, or why not), energy sources, devices and versions. */
import os from 'node:os';
import type { InfoResult } from '../../../shared/job-results';
import type { SpecOf } from '../../../shared/jobs';
import { POLLARD_VERSION } from '../../util/version';
import { SAMPLE_DATASET } from '../../util/paths';
import { probeBackends } from '../backend/ladder';
import { nativeKernelsStatus } from '../backend/native-conv';
import { computeThreads } from '../backend/threads';
import { probeEnergySources } from '../energy/sources';
import { engineVersions } from '../versions';
import type { JobContext } from './context';

/** Whether convolutions on wasm run in ONNX Runtime's native CPU kernels, or why not. */
function nativeKernelLine(): string {
  const status = nativeKernelsStatus();
  return status.available
    ? 'ONNX Runtime CPU (convolutions on wasm: forward and gradients)'
    : `unavailable: ${status.reason ?? 'unknown'}`;
}

export async function runInfoJob(_spec: SpecOf<'info'>, ctx: JobContext): Promise<InfoResult> {
  const [rungs, energySources] = await Promise.all([probeBackends(), probeEnergySources()]);
  // The rung this process uses is "used"; the probe reports the others as available or not.
  const backends = rungs.map((rung) =>
    rung.name === ctx.backend.used ? { ...rung, status: 'used' as const } : rung,
  );
  const cpus = os.cpus();
  return {
    kind: 'info',
    backend: ctx.backend.used,
    device: ctx.backend.device,
    pollardVersion: POLLARD_VERSION,
    versions: engineVersions(),
    backends,
    energySources,
    system: {
      os: `${os.type()} ${os.release()} (${process.platform}-${process.arch})`,
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      threads: computeThreads(),
      nativeKernels: nativeKernelLine(),
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      samplePath: SAMPLE_DATASET,
    },
  };
}
