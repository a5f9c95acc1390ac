/**
 * What the app's window may do (SECURITY.md items 18–19), as data so a test can check it
 * without Electron: isolated, sandboxed, no Node in the page, web security on; navigation
 * only within Pollard's own origin; no new windows, no webviews, no permissions.
 */
import type { Session, WebContents, WebPreferences } from 'electron';
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
  // A middle click must not open a link in a new window (Electronegativity's AUXCLICK check).
  disableBlinkFeatures: 'Auxclick',
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

/** Navigation outside the app, new windows and webviews are refused for every web contents. */
export function hardenContents(contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // No window is ever opened, and links are never handed to shell.openExternal.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Camera, microphone, notifications, geolocation, …: Pollard needs none, so every request is denied. */
export function denyAllPermissions(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>,
): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
