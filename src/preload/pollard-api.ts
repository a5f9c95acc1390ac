/**
 * `window.pollard`: one function per PollardApi method, each a single `ipcRenderer.invoke`
 * on `pollard:<method>`. ipcRenderer itself is never exposed. A failed call rejects with its
 * SerializedError as plain data (contextBridge would keep only an Error's message); the
 * renderer's bridge rebuilds the PollardError.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import type { ApiResponse, JobMessage, MenuCommand } from '../shared/api';
import {
  ipcChannel,
  JOB_MESSAGE_CHANNEL,
  MENU_CHANNEL,
  POLLARD_API_METHODS,
  REPLAY_CHANNEL,
} from '../shared/ipc';

type Ipc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
interface FilePaths {
  getPathForFile(file: File): string;
}

function messageKey(message: JobMessage): string {
  return `${message.jobId}:${message.event.seq}:${message.event.type}`;
}

export function createPreloadApi(ipc: Ipc, files: FilePaths): Record<string, (...args: never[]) => unknown> {
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    const response = (await ipc.invoke(ipcChannel(method), ...args)) as ApiResponse;
    if (response.ok) return response.value;
    return Promise.reject(response.error);
  };

  const api: Record<string, (...args: never[]) => unknown> = {};
  for (const method of POLLARD_API_METHODS) {
    if (method === 'subscribe' || method === 'resolveFiles') continue;
    api[method] = (...args: unknown[]) => call(method, args);
  }

  api.resolveFiles = async (chosen: File[]) => {
    const paths = Array.from(chosen, (file) => files.getPathForFile(file));
    if (paths.length === 0 || paths.some((p) => !p)) {
      return Promise.reject({
        code: 'usage',
        message:
          'resolveFiles: a dropped item has no path on disk (drop files or folders from the file manager)',
      });
    }
    return call('resolveFiles', [paths]);
  };

  /** Live events, after a replay of the unfinished jobs' buffered ones (a reloaded window recovers). */
  api.subscribe = (listener: (message: JobMessage) => void) => {
    let active = true;
    let replaying = true;
    const early: JobMessage[] = [];
    const handler = (_event: IpcRendererEvent, message: JobMessage): void => {
      if (!active) return;
      if (replaying) early.push(message);
      else listener(message);
    };
    ipc.on(JOB_MESSAGE_CHANNEL, handler);
    const flush = (replayed: JobMessage[]): void => {
      replaying = false;
      if (!active) return;
      const seen = new Set(replayed.map(messageKey));
      for (const message of replayed) listener(message);
      for (const message of early) if (!seen.has(messageKey(message))) listener(message);
      early.length = 0;
    };
    (ipc.invoke(REPLAY_CHANNEL) as Promise<JobMessage[]>).then(flush, () => flush([]));
    return () => {
      active = false;
      ipc.removeListener(JOB_MESSAGE_CHANNEL, handler);
    };
  };

  api.onMenuCommand = (listener: (command: MenuCommand) => void) => {
    const handler = (_event: IpcRendererEvent, command: MenuCommand): void => listener(command);
    ipc.on(MENU_CHANNEL, handler);
    return () => {
      ipc.removeListener(MENU_CHANNEL, handler);
    };
  };
  return api;
}
