/** One `ipcMain.handle` per API method, each behind the sender check and argument schemas. */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { JobMessage } from '../../shared/api';
import { ipcChannel, REPLAY_CHANNEL } from '../../shared/ipc';
import type { ApiHandlers, ApiMethod } from '../services/api-methods';
import { handleIpcCall, isTrustedSender } from './ipc-guard';

export function registerIpcHandlers(
  ipcMain: IpcMain,
  handlers: ApiHandlers,
  replay: () => JobMessage[],
): () => void {
  const channels: string[] = [];
  for (const method of Object.keys(handlers) as ApiMethod[]) {
    const channel = ipcChannel(method);
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) =>
      handleIpcCall(handlers, method, event.senderFrame, args),
    );
    channels.push(channel);
  }
  ipcMain.handle(REPLAY_CHANNEL, (event: IpcMainInvokeEvent) =>
    isTrustedSender(event.senderFrame) ? replay() : [],
  );
  channels.push(REPLAY_CHANNEL);
  return () => channels.forEach((channel) => ipcMain.removeHandler(channel));
}
