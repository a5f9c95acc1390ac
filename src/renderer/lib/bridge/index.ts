/**
 * The bridge chooser: inside the Electron app the preload has put `window.pollard` there;
 * anywhere else the page came from `pollard serve` and talks HTTP back to it.
 */
import type { PollardApi } from '../../../shared/api';
import { createElectronBridge } from './electron-bridge';
import { HttpBridge } from './http-bridge';

export type HostKind = 'electron' | 'browser';

export interface Host {
  kind: HostKind;
  api: PollardApi;
  /** Browser only: whether the event stream is connected. */
  onConnectionChange?: (listener: (connected: boolean) => void) => () => void;
}

declare global {
  interface Window {
    pollard?: PollardApi;
  }
}

export function chooseHost(win: Window = window): Host {
  if (win.pollard) return { kind: 'electron', api: createElectronBridge(win.pollard) };
  const http = new HttpBridge();
  return { kind: 'browser', api: http, onConnectionChange: (listener) => http.onConnectionChange(listener) };
}
