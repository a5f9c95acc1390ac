import { beforeEach, describe, expect, it, vi } from 'vitest';
import { POLLARD_API_METHODS } from '../shared/ipc';

type Handler = (event: unknown, message: unknown) => void;

const electron = vi.hoisted(() => {
  const listeners = new Map<string, Set<(event: unknown, message: unknown) => void>>();
  return {
    listeners,
    exposeInMainWorld: vi.fn(),
    invoke: vi.fn(),
    on: vi.fn((channel: string, handler: (event: unknown, message: unknown) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(handler);
    }),
    removeListener: vi.fn((channel: string, handler: (event: unknown, message: unknown) => void) => {
      listeners.get(channel)?.delete(handler);
    }),
    getPathForFile: vi.fn((file: { name: string }) =>
      file.name === 'pasted' ? '' : `/home/u/data/${file.name}`,
    ),
  };
});

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: electron.exposeInMainWorld },
  ipcRenderer: {
    invoke: electron.invoke,
    on: electron.on,
    removeListener: electron.removeListener,
    send: vi.fn(),
  },
  webUtils: { getPathForFile: electron.getPathForFile },
}));

await import('./index');
const [[key, exposed]] = electron.exposeInMainWorld.mock.calls as [[string, Record<string, unknown>]];
type Call = (...args: unknown[]) => Promise<unknown>;
const api = exposed as {
  getRun: Call;
  inspectModel: Call;
  resolveFiles: Call;
  subscribe(listener: (m: unknown) => void): () => void;
  onMenuCommand(listener: (m: unknown) => void): () => void;
};

function emit(channel: string, message: unknown): void {
  for (const handler of electron.listeners.get(channel) ?? [])
    (handler as Handler)({ sender: 'ipc' }, message);
}

beforeEach(() => {
  electron.invoke.mockReset();
});

describe('preload', () => {
  it('exposes exactly the PollardApi functions as window.pollard, and never ipcRenderer', () => {
    expect(electron.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(key).toBe('pollard');
    expect(Object.keys(exposed).sort()).toEqual([...POLLARD_API_METHODS, 'onMenuCommand'].sort());
    for (const value of Object.values(exposed)) expect(typeof value).toBe('function');
    expect(Object.keys(exposed)).not.toContain('invoke');
    expect(Object.keys(exposed)).not.toContain('ipcRenderer');
    expect(Object.values(exposed)).not.toContain(electron.invoke);
  });

  it('sends each call on its own channel and returns the value', async () => {
    electron.invoke.mockResolvedValueOnce({ ok: true, value: { dir: '/runs/a' } });
    await expect(api.getRun('/runs/a')).resolves.toEqual({ dir: '/runs/a' });
    expect(electron.invoke).toHaveBeenCalledWith('pollard:getRun', '/runs/a');
  });

  it('rejects with the SerializedError as data', async () => {
    const error = { code: 'bad-input', message: '/m/model.json: not JSON', file: '/m/model.json' };
    electron.invoke.mockResolvedValueOnce({ ok: false, error });
    await expect(api.inspectModel('/m')).rejects.toEqual(error);
  });

  it('turns dropped files into their paths and lets main re-check them', async () => {
    electron.invoke.mockResolvedValueOnce({ ok: true, value: '/home/u/data' });
    await expect(api.resolveFiles([{ name: 'a.idx' }, { name: 'b.idx' }])).resolves.toBe('/home/u/data');
    expect(electron.invoke).toHaveBeenCalledWith('pollard:resolveFiles', [
      '/home/u/data/a.idx',
      '/home/u/data/b.idx',
    ]);
    await expect(api.resolveFiles([{ name: 'pasted' }])).rejects.toMatchObject({ code: 'usage' });
  });

  it('subscribes: replay first, then live events without duplicates; unsubscribe stops them', async () => {
    let answerReplay!: (messages: unknown[]) => void;
    electron.invoke.mockImplementationOnce(() => new Promise((resolve) => (answerReplay = resolve)));
    const seen: string[] = [];
    const unsubscribe = api.subscribe((m) => {
      const message = m as { jobId: string; event: { seq: number; type: string } };
      seen.push(`${message.jobId}:${message.event.seq}`);
    });
    expect(electron.invoke).toHaveBeenCalledWith('pollard:replay');
    const event = (seq: number) => ({ jobId: 'j', event: { seq, type: 'batch' } });
    emit('pollard:job-message', event(2)); // arrives while the replay is on its way
    emit('pollard:job-message', event(3));
    answerReplay([event(0), event(1), event(2)]);
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual(['j:0', 'j:1', 'j:2', 'j:3']);
    emit('pollard:job-message', event(4));
    unsubscribe();
    emit('pollard:job-message', event(5));
    expect(seen).toEqual(['j:0', 'j:1', 'j:2', 'j:3', 'j:4']);
    expect(electron.listeners.get('pollard:job-message')?.size).toBe(0);
  });

  it('passes menu commands on until unsubscribed', () => {
    const commands: unknown[] = [];
    const off = api.onMenuCommand((c) => commands.push(c));
    emit('pollard:menu', { command: 'open-model', path: '/m/model.h5' });
    off();
    emit('pollard:menu', { command: 'open-model', path: '/x' });
    expect(commands).toEqual([{ command: 'open-model', path: '/m/model.h5' }]);
  });
});
