import { type EventEmitter } from 'node:events';
import { type PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({ forks: [] as unknown[], app: undefined as unknown }));

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const { PassThrough: Pipe } = await import('node:stream');
  const app = new Emitter();
  electron.app = app;
  return {
    app,
    utilityProcess: {
      fork: vi.fn((entry: string, args: string[], options: Record<string, unknown>) => {
        const child = Object.assign(new Emitter(), {
          entry,
          args,
          options,
          pid: 4242,
          stdout: new Pipe(),
          stderr: new Pipe(),
          posted: [] as unknown[],
          killed: 0,
          postMessage(message: unknown) {
            this.posted.push(message);
          },
          kill() {
            this.killed += 1;
            return true;
          },
        });
        electron.forks.push(child);
        return child;
      }),
    },
  };
});

const { describeExit, utilityWorkerLauncher } = await import('./utility-launcher');

type FakeChild = EventEmitter & {
  options: { stdio: string; serviceName: string; env: Record<string, string> };
  stdout: PassThrough;
  stderr: PassThrough;
  posted: unknown[];
  killed: number;
};

describe('utility process launcher', () => {
  it('forks the worker with piped output and the job environment, and relays messages, output and commands', async () => {
    const worker = utilityWorkerLauncher({
      entry: '/app/out/app/worker/index.js',
      env: { POLLARD_PUE: '1.2' },
    })();
    const child = electron.forks.at(-1) as FakeChild;
    expect(child.options.stdio).toBe('pipe');
    expect(child.options.env.POLLARD_PUE).toBe('1.2');
    expect(worker.pid).toBe(4242);
    const messages: unknown[] = [];
    const lines: string[] = [];
    worker.onMessage((m) => messages.push(m));
    worker.onOutput((stream, line) => lines.push(`${stream}:${line}`));
    worker.send({ type: 'cancel' });
    expect(child.posted).toEqual([{ type: 'cancel' }]);
    child.emit('message', { type: 'log', seq: 0 });
    child.stderr.write('tfjs warn\npartial');
    child.stderr.write(' line\n');
    await new Promise((r) => setImmediate(r));
    expect(messages).toEqual([{ type: 'log', seq: 0 }]);
    expect(lines).toEqual(['stderr:tfjs warn', 'stderr:partial line']);
    worker.kill();
    expect(child.killed).toBe(1);
  });

  it("reports a crash with Electron's reason from child-process-gone", async () => {
    const worker = utilityWorkerLauncher({ entry: '/w.js' })();
    const child = electron.forks.at(-1) as FakeChild;
    const exit = new Promise<[number | null, string]>((resolve) =>
      worker.onExit((code, reason) => resolve([code, reason])),
    );
    child.emit('exit', 9);
    (electron.app as EventEmitter).emit(
      'child-process-gone',
      {},
      {
        type: 'Utility',
        reason: 'oom',
        exitCode: 9,
        serviceName: child.options.serviceName,
      },
    );
    expect(await exit).toEqual([9, 'out of memory; killed by SIGKILL (exit code 9)']);
    worker.send({ type: 'cancel' });
    expect(child.posted).toEqual([]);
  });

  it('describes exits', () => {
    expect(describeExit(0, undefined)).toBe('exit code 0');
    expect(describeExit(1, 'clean-exit')).toBe('exit code 1');
    expect(describeExit(11, 'crashed')).toBe('crashed (exit code 11)');
    expect(describeExit(null, 'launch-failed')).toBe('launch-failed (exit code unknown)');
  });
});
