/**
 * The renderer loads from `app://pollard/…`, a privileged standard scheme served from the
 * built files (out/renderer) with the strict CSP as a response header: same-origin rules
 * work, and nothing is loaded from `file://` or the network.
 */
import { promises as fs } from 'node:fs';
import { protocol } from 'electron';
import { contentSecurityPolicy } from '../services/csp';
import { contentTypeOf, findStaticFile } from '../services/static-files';
import { APP_HOST, APP_SCHEME } from './ipc-guard';

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
  ]);
}

export function serveRenderer(rendererDir: string): void {
  const csp = contentSecurityPolicy();
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const found =
      url.host === APP_HOST && (request.method === 'GET' || request.method === 'HEAD')
        ? await findStaticFile(rendererDir, url.pathname)
        : null;
    if (!found)
      return new Response('not found', { status: 404, headers: { 'Content-Security-Policy': csp } });
    return new Response(request.method === 'HEAD' ? null : await fs.readFile(found.file), {
      status: 200,
      headers: {
        'Content-Type': contentTypeOf(found.file),
        'Content-Security-Policy': csp,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    });
  });
}
