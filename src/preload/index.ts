/**
 * The preload of Pollard's window (sandboxed, context-isolated): it exposes `window.pollard`
 * and nothing else.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createPreloadApi } from './pollard-api';

contextBridge.exposeInMainWorld('pollard', createPreloadApi(ipcRenderer, webUtils));
