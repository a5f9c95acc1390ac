/**
 * What the app's window may do (SECURITY.md items 18–19), as data so a test can check it
 * without Electron: isolated, sandboxed, no Node in the page, web security on; navigation
 * only within Pollard's own origin; no new windows, no webviews, no permissions.
 */
import type { WebPreferences } from 'electron';
import { APP_HOST, APP_SCHEME } from './ipc-guard';

export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const satisfies WebPreferences;

/** Only Pollard's own pages; never a dropped file, a link, or a remote site. */
export function isAllowedNavigation(target: string): boolean {
  try {
    const url = new URL(target);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}
