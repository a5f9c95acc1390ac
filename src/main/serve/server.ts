/**
 * `pollard serve`: the renderer over HTTP and WebSocket from plain Node, for GPU servers
 * without a display and for the e2e tests. The protocol (README, "pollard serve"):
 *
 *   GET  /?token=T                 sets the HttpOnly token cookie, redirects to /
 *   GET  /, /assets/…              the built renderer (out/renderer), with a strict CSP
 *   POST /api/call/<method>        {"args": [...]} → {"ok": true, "value"} | {"ok": false, "error"}
 *   PUT  /api/upload/<batch>/<p>   one dropped file's bytes; then finishUpload(batch)
 *   GET  /api/events (WebSocket)   every JobMessage, after a replay of unfinished jobs
 *   GET  /api/download?run&file    one file of a run folder; /api/download.zip?run: its export
 *
 * Every request needs an expected Host header (403) and the token (401); browsers' Origin
 * must be this server (403). No CORS headers, ever. Each route is its own module (routes/);
 * this file checks who is asking and hands the request to the route its path names.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { FINISH_UPLOAD_METHOD, SERVE_PATHS } from '../../shared/api';
import { usageError } from '../../shared/errors';
import type { ApiHandlers } from '../services/api-methods';
import { type AppService, serviceHandlers } from '../services/app-service';
import { contentSecurityPolicy } from '../services/csp';
import { listRuns } from '../services/runs';
import { createToken, hostAllowed, isAuthorized, originAllowed, tokenCookie, tokensEqual } from './auth';
import { attachEventSocket } from './event-socket';
import { type RouteRequest, sendText, setCommonHeaders } from './http';
import { apiCallRoute } from './routes/api';
import { downloadFile, downloadZip } from './routes/downloads';
import { staticRoute } from './routes/static';
import { uploadRoute } from './routes/uploads';
import { retainUploads } from './upload-retention';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits, UploadStore } from './uploads';

export { API_BODY_LIMIT } from './routes/api';

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

export const DEFAULT_PORT = 7878;
export const DEFAULT_HOST = '127.0.0.1';

export interface ServeOptions {
  service: AppService;
  /** The built renderer (index.html + assets/). */
  rendererDir: string;
  host?: string;
  /** Default 7878 (or the next free one of the 10 after it); 0 picks any free port. */
  port?: number;
  /** Default `<data dir>/uploads`. */
  uploadsDir?: string;
  /** Default: 32 random bytes as hex. */
  token?: string;
  uploadLimits?: Partial<UploadLimits>;
  /** Errors the server handled (a failed request), one line each. */
  log?: (line: string) => void;
}

export interface PollardServer {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** `http://HOST:PORT/` */
  readonly url: string;
  /** The URL to open: it carries the token once, and the server swaps it for a cookie. */
  readonly tokenUrl: string;
  close(): Promise<void>;
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Upload retention (Settings): at start, then hourly. Returns the stop function. */
function scheduleUploadRetention(
  service: AppService,
  uploadsDir: string,
  log: (line: string) => void,
): () => void {
  const retain = (): void => {
    retainUploads(service, uploadsDir, async (runsDirectory) =>
      (await listRuns(runsDirectory)).map((listing) => listing.run.spec),
    )
      .then((outcome) => {
        if (outcome.removed.length > 0) {
          const bytes = outcome.removed.reduce((sum, r) => sum + r.bytes, 0);
          log(
            `uploads: removed ${outcome.removed.length} old upload batch(es), ${bytes} bytes (Settings: upload retention)`,
          );
        }
      })
      .catch((error: unknown) =>
        log(`uploads: retention skipped: ${error instanceof Error ? error.message : String(error)}`),
      );
  };
  retain();
  const timer = setInterval(retain, RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The checks before any route: the Host header, the token (or the `?token=` visit that sets
 * its cookie), a browser's Origin. Returns the request split into path and query, or null
 * when it was answered here.
 */
function admit(
  request: IncomingMessage,
  response: ServerResponse,
  token: string,
  hostOk: (hostHeader: string | undefined) => boolean,
): RouteRequest | null {
  setCommonHeaders(response);
  const hostHeader = request.headers.host;
  if (!hostOk(hostHeader)) {
    sendText(response, 403, 'forbidden: unexpected Host header');
    return null;
  }
  response.setHeader('Content-Security-Policy', contentSecurityPolicy([`ws://${hostHeader}`]));
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1));
  if (!rawPath.startsWith('/')) {
    sendText(response, 400, 'bad request');
    return null;
  }
  const offered = query.get('token');
  if (rawPath === '/' && offered !== null && request.method === 'GET') {
    if (!tokensEqual(offered, token)) {
      sendText(response, 401, 'unauthorized: this token is not the one pollard serve printed');
      return null;
    }
    response.writeHead(302, { Location: '/', 'Set-Cookie': tokenCookie(token), 'Cache-Control': 'no-store' });
    response.end();
    return null;
  }
  if (!isAuthorized(request, token)) {
    sendText(response, 401, 'unauthorized: open the URL with ?token=… that pollard serve printed');
    return null;
  }
  if (request.headers.origin !== undefined && !originAllowed(request.headers.origin, hostHeader)) {
    sendText(response, 403, 'forbidden: cross-origin request');
    return null;
  }
  return { request, response, rawPath, query };
}

/** Binds `requested` (or, when the port was not chosen, the first free one of the 10 from it). */
async function listenOnFreePort(
  server: http.Server,
  host: string,
  requested: number,
  attempts: number,
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listen(server, host, requested === 0 ? 0 : requested + attempt);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && attempt + 1 < attempts) continue;
      if (code === 'EADDRINUSE')
        throw usageError(`--port ${requested + attempt}: already in use; choose another port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
        throw usageError(`--host ${host}: not an address of this machine`);
      throw error;
    }
  }
}

export async function startServer(options: ServeOptions): Promise<PollardServer> {
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token ?? createToken();
  const log = options.log ?? (() => undefined);
  const uploadsDir = options.uploadsDir ?? path.join(options.service.dataDir, 'uploads');
  const uploads = new UploadStore(uploadsDir, { ...DEFAULT_UPLOAD_LIMITS, ...options.uploadLimits });
  const stopRetention = scheduleUploadRetention(options.service, uploadsDir, log);
  const handlers: ApiHandlers = {
    ...serviceHandlers(options.service),
    pickPath: async () => null,
    openFolder: async (folder) => {
      throw usageError(`not available in the browser; the files are in ${folder} on the server`);
    },
    openReport: async (file) => {
      throw usageError(`not available in the browser; open the report's link (${file} on the server)`);
    },
    [FINISH_UPLOAD_METHOD]: (batchId) => uploads.finish(batchId),
  };
  const apiCall = apiCallRoute(handlers);
  const upload = uploadRoute(uploads, log);
  const serveStatic = staticRoute(options.rendererDir);
  let port = 0;
  const hostOk = (hostHeader: string | undefined): boolean => hostAllowed(hostHeader, host, port);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const route = admit(request, response, token, hostOk);
    if (!route) return;
    const { rawPath } = route;
    if (rawPath.startsWith(SERVE_PATHS.call)) return apiCall(route, rawPath.slice(SERVE_PATHS.call.length));
    if (rawPath.startsWith(SERVE_PATHS.upload))
      return upload(route, rawPath.slice(SERVE_PATHS.upload.length));
    if (rawPath === SERVE_PATHS.download) return downloadFile(route);
    if (rawPath === SERVE_PATHS.downloadZip) return downloadZip(route);
    return serveStatic(route);
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`pollard serve: ${request.method} ${request.url?.split('?')[0]}: ${(error as Error).message}`);
      if (!response.headersSent) sendText(response, 500, 'internal error');
      else response.destroy();
    });
  });
  const events = attachEventSocket(server, { service: options.service, token, hostAllowed: hostOk });
  try {
    port = await listenOnFreePort(
      server,
      host,
      options.port ?? DEFAULT_PORT,
      options.port === undefined ? 10 : 1,
    );
  } catch (error) {
    stopRetention();
    events.close();
    throw error;
  }

  const url = `http://${urlHost(host)}:${port}/`;
  return {
    host,
    port,
    token,
    url,
    tokenUrl: `${url}?token=${token}`,
    close: async () => {
      stopRetention();
      events.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
