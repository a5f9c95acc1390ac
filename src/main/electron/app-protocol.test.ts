import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({
  handlers: new Map<string, (request: Request) => Promise<Response>>(),
  privileged: [] as unknown[],
}));
vi.mock('electron', () => ({
  protocol: {
    handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
      electron.handlers.set(scheme, handler),
    registerSchemesAsPrivileged: (schemes: unknown[]) => electron.privileged.push(...schemes),
  },
}));

const { registerAppScheme, serveRenderer } = await import('./app-protocol');

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-protocol-'));
  await fs.mkdir(path.join(root, 'renderer', 'assets'), { recursive: true });
  await fs.writeFile(path.join(root, 'renderer', 'index.html'), '<!doctype html>');
  await fs.writeFile(path.join(root, 'renderer', 'assets', 'a.js'), 'export {}');
  await fs.writeFile(path.join(root, 'secret'), 'no');
  registerAppScheme();
  serveRenderer(path.join(root, 'renderer'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const get = (url: string, method = 'GET') => electron.handlers.get('app')!(new Request(url, { method }));

describe('app:// protocol', () => {
  it('registers app as a secure standard scheme', () => {
    expect(electron.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
    ]);
  });

  it('serves the renderer with the strict CSP (no WebSocket source in the app)', async () => {
    const page = await get('app://pollard/index.html');
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<!doctype html>');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    const asset = await get('app://pollard/assets/a.js');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('serves nothing outside the renderer folder or for another host', async () => {
    for (const url of [
      'app://pollard/%2e%2e/secret',
      'app://pollard/assets/..%2F..%2Fsecret',
      'app://other/index.html',
    ]) {
      expect((await get(url)).status, url).toBe(404);
    }
    expect((await get('app://pollard/index.html', 'POST')).status).toBe(404);
  });
});
