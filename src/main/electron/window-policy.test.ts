import { describe, expect, it } from 'vitest';
import {
  denyAllPermissions,
  hardenContents,
  isAllowedNavigation,
  SECURE_WEB_PREFERENCES,
} from './window-policy';

describe('window policy', () => {
  it('isolates and sandboxes the page, without Node, with web security on', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
    });
  });

  it('allows navigation only within app://pollard', () => {
    expect(isAllowedNavigation('app://pollard/index.html#/results')).toBe(true);
    for (const url of [
      'https://example.com/',
      'file:///etc/passwd',
      'app://other/',
      'javascript:alert(1)',
      'x',
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false);
    }
  });
});

describe('web contents hardening', () => {
  function fakeContents() {
    const handlers = new Map<string, (event: { preventDefault(): void }, url?: string) => void>();
    let openHandler: ((details: { url: string }) => { action: string }) | undefined;
    const contents = {
      on: (name: string, handler: (event: { preventDefault(): void }, url?: string) => void) => {
        handlers.set(name, handler);
        return contents;
      },
      setWindowOpenHandler: (handler: (details: { url: string }) => { action: string }) => {
        openHandler = handler;
      },
    };
    const fire = (name: string, url?: string): boolean => {
      let prevented = false;
      handlers.get(name)!({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    return { contents, fire, open: (url: string) => openHandler!({ url }) };
  }

  it('blocks navigation away from the app, webviews and new windows', () => {
    const { contents, fire, open } = fakeContents();
    hardenContents(contents as never);
    expect(fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(fire('will-navigate', 'file:///home/u/dropped.html')).toBe(true);
    expect(fire('will-navigate', 'app://pollard/index.html')).toBe(false);
    expect(fire('will-redirect', 'http://127.0.0.1/')).toBe(true);
    expect(fire('will-attach-webview')).toBe(true);
    expect(open('https://example.com/')).toEqual({ action: 'deny' });
    expect(open('app://pollard/index.html')).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    let request: ((c: unknown, p: string, callback: (granted: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    denyAllPermissions({
      setPermissionRequestHandler: (handler: never) => (request = handler),
      setPermissionCheckHandler: (handler: never) => (check = handler),
    } as never);
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
      request!({}, permission, (granted) => answers.push(granted));
    }
    expect(answers).toEqual([false, false, false, false]);
    expect(check!()).toBe(false);
  });
});
