/**
 * The job process in the desktop app: Electron's utilityProcess (a Node process Chromium
 * manages), behind the same WorkerLauncher interface as child_process.fork. Its exit reason
 * comes from `child-process-gone` (crashed, oom, killed) when Electron reports one.
 */
import { app, type Details, utilityProcess } from 'electron';
import type { JobEvent } from '../../shared/jobs';
import { outputLines, type WorkerLauncher, type WorkerProcess } from '../services/job-host';

let launched = 0;

/** "exit code 1", "crashed (exit code 11)", "killed by the system: out of memory (exit code 9)". */
export function describeExit(code: number | null, gone: Details['reason'] | undefined): string {
  const exit = `exit code ${code === null ? 'unknown' : code}`;
  switch (gone) {
    case undefined:
    case 'clean-exit':
      return exit;
    case 'oom':
      return `out of memory; killed by SIGKILL (${exit})`;
    case 'killed':
      return `killed by SIGKILL (${exit})`;
    case 'memory-eviction':
      return `evicted to free memory; killed by SIGKILL (${exit})`;
    default:
      return `${gone} (${exit})`;
  }
}

export function utilityWorkerLauncher(options: {
  entry: string;
  env?: Record<string, string>;
}): WorkerLauncher {
  return () => {
    const serviceName = `Pollard job ${++launched}`;
    const child = utilityProcess.fork(options.entry, [], {
      stdio: 'pipe',
      serviceName,
      env: { ...process.env, ...options.env },
    });
    let goneReason: Details['reason'] | undefined;
    let exited = false;
    const onGone = (_event: unknown, details: Details): void => {
      if (details.type === 'Utility' && details.serviceName === serviceName) goneReason = details.reason;
    };
    app.on('child-process-gone', onGone);
    const onOutput = outputLines(child.stdout, child.stderr);
    child.on('exit', () => {
      exited = true;
    });
    const worker: WorkerProcess = {
      get pid() {
        return child.pid;
      },
      send: (command) => {
        if (!exited) child.postMessage(command);
      },
      onMessage: (listener) => child.on('message', (message: unknown) => listener(message as JobEvent)),
      onExit: (listener) =>
        child.on('exit', (code: number) => {
          // `child-process-gone` may arrive just after `exit`; give it a moment to name the reason.
          setTimeout(() => {
            app.off('child-process-gone', onGone);
            listener(code, describeExit(code, goneReason));
          }, 50);
        }),
      onOutput,
      kill: () => {
        if (!exited) child.kill();
      },
    };
    return worker;
  };
}
