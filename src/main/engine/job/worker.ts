/**
 * Entry point of a job process. It waits for one `start` command, chooses the backend once,
 * runs the job, streams events back (each with a sequence number), and exits:
 *   0 after `result` or `cancelled`, 1 after `error`.
 * A process that exits without one of those was killed or crashed; the host reports that.
 */
import { serializeError } from '../../../shared/errors';
import { type JobCommand, type JobEvent, type JobEventBody, jobSpecSchema } from '../../../shared/jobs';
import { runDirOf } from '../../../shared/run-record';
import { initBackend } from '../backend/ladder';
import { computeThreads, setComputeThreads, setKernelThreads } from '../backend/threads';
import { setUserCpuWatts } from '../energy/cpu-tdp';
import { isWasmAbort } from '../train/memory-estimate';
import { wasmAbortInJob } from './wasm-abort';
import { engineVersions } from '../versions';
import { cancelledError, type JobContext } from './context';
import { loadHandler } from './handlers';
import { checkedResult } from './result-check';
import { processTransport } from './transport';

const transport = processTransport();
const controller = new AbortController();
let seq = 0;
let pending: Promise<void> = Promise.resolve();
let started = false;

function emit(body: JobEventBody): void {
  const event = { ...body, seq: seq++, time: Date.now() } as JobEvent;
  pending = pending.then(() => transport.send(event));
}

async function finish(code: number): Promise<never> {
  await pending;
  process.exit(code);
}

async function run(command: Extract<JobCommand, { type: 'start' }>): Promise<void> {
  try {
    const spec = jobSpecSchema.parse(command.spec);
    setComputeThreads(spec.threads);
    // The user's CPU power (--cpu-watts); else the Settings field arrives as POLLARD_CPU_WATTS.
    if (spec.cpuWatts !== undefined) setUserCpuWatts(spec.cpuWatts);
    const backend = await initBackend(spec.backend);
    // Outside training (whose replicas share the cores out), kernels with a pool use every thread.
    setKernelThreads(computeThreads());
    const ctx: JobContext = {
      backend,
      signal: controller.signal,
      emit,
      log: (level, message) => emit({ type: 'log', level, message }),
      throwIfCancelled() {
        if (controller.signal.aborted) throw cancelledError();
      },
    };
    const runDir = runDirOf(spec);
    emit({
      type: 'started',
      kind: spec.kind,
      backend,
      pid: process.pid,
      versions: engineVersions(),
      ...(runDir ? { runDir } : {}),
    });
    const handler = await loadHandler(spec.kind);
    const result = await handler(spec as never, ctx);
    emit({ type: 'result', result: checkedResult(spec.kind, result, ctx.log) });
    await finish(0);
  } catch (error) {
    const serialized = serializeError(isWasmAbort(error) ? wasmAbortInJob(command.spec, error) : error);
    if (serialized.code === 'cancelled') {
      emit({ type: 'cancelled' });
      await finish(0);
    }
    emit({ type: 'error', error: serialized });
    await finish(1);
  }
}

transport.onCommand((command) => {
  if (command.type === 'cancel') {
    controller.abort();
    return;
  }
  if (command.type === 'start' && !started) {
    started = true;
    void run(command);
  }
});
