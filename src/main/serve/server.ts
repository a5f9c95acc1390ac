/**
 * `pollard serve`: the renderer over HTTP and WebSocket from plain Node, for GPU servers
 * without a display and for the e2e tests. The protocol (README, "pollard serve"):
 *
 *   GET  /?token=T                 sets the HttpOnly token cookie, redirects to /
 *   GET  /, /assets/…              the built renderer (out/renderer), with a strict CSP
 *   POST /api/call/<method>        {"args": [...]} → {"ok": true, "value"} | {"ok": false, "error"}
 *   PUT  /api/upload/<batch>/<p>   one dropped file's bytes; then finishUpload(batch)
 *   GET  /api/events (WebSocket)   every JobMessage, after a replay of unfinished jobs
 *
 * Every request needs an expected Host header (403) and the token (401); browsers' Origin
 * must be this server (403). No CORS headers, ever.
 */
import { createReadStream } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { type ApiResponse, FINISH_UPLOAD_METHOD, SERVE_PATHS } from '../../shared/api';
import { type SerializedError, usageError } from '../../shared/errors';
import { type ApiHandlers, dispatchApiCall, isApiMethod } from '../services/api-methods';
import { type AppService, serviceHandlers } from '../services/app-service';
import { contentSecurityPolicy } from '../services/csp';
import { cacheControlOf, contentTypeOf, findStaticFile } from '../services/static-files';
import { createToken, hostAllowed, isAuthorized, originAllowed, tokenCookie, tokensEqual } from './auth';
import { attachEventSocket } from './event-socket';
import { sanitizeUploadPath } from './upload-path';
import { listRuns } from '../services/runs';
import { retainUploads } from './upload-retention';
import { DEFAULT_UPLOAD_LIMITS, UploadError, type UploadLimits, UploadStore } from './uploads';

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

export const DEFAULT_PORT = 7878;
export const DEFAULT_HOST = '127.0.0.1';
/** Largest API request body. */
export const API_BODY_LIMIT = 1024 * 1024;

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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function setCommonHeaders(response: ServerResponse): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  response.setHeader('X-Frame-Options', 'DENY');
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(text + '\n');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-store',
  });
  response.end(json);
}

function errorBody(code: SerializedError['code'], message: string): ApiResponse {
  return { ok: false, error: { code, message } };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    throw new HttpError(413, `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Tell the client, then drop the connection instead of reading a body nobody wants. */
function refuseBody(request: IncomingMessage, response: ServerResponse, send: () => void): void {
  response.setHeader('Connection', 'close');
  send();
  response.once('finish', () => request.destroy());
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

export async function startServer(options: ServeOptions): Promise<PollardServer> {
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token ?? createToken();
  const log = options.log ?? (() => undefined);
  const rendererDir = path.resolve(options.rendererDir);
  const uploadsDir = options.uploadsDir ?? path.join(options.service.dataDir, 'uploads');
  const uploads = new UploadStore(uploadsDir, {
    ...DEFAULT_UPLOAD_LIMITS,
    ...options.uploadLimits,
  });
  // Upload retention (Settings): at start, then hourly.
  const retain = (): void => {
    retainUploads(options.service, uploadsDir, async (runsDirectory) =>
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
  const retention = setInterval(retain, RETENTION_INTERVAL_MS);
  retention.unref();
  const handlers: ApiHandlers = {
    ...serviceHandlers(options.service),
    pickPath: async () => null,
    openFolder: async (folder) => {
      throw usageError(`not available in the browser; the files are in ${folder} on the server`);
    },
    [FINISH_UPLOAD_METHOD]: (batchId) => uploads.finish(batchId),
  };
  let port = 0;

  const handleApiCall = async (
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
  ): Promise<void> => {
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      sendJson(response, 405, errorBody('usage', `${method}: use POST`));
      return;
    }
    if (!isApiMethod(method) || !handlers[method]) {
      sendJson(response, 404, errorBody('usage', `unknown method "${method}"`));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request, API_BODY_LIMIT)).toString('utf8'));
    } catch (error) {
      if (error instanceof HttpError) {
        refuseBody(request, response, () =>
          sendJson(response, error.status, errorBody('usage', `${method}: ${error.message}`)),
        );
        return;
      }
      sendJson(
        response,
        400,
        errorBody('usage', `${method}: the request body must be JSON: {"args": [...]}`),
      );
      return;
    }
    if (typeof body !== 'object' || body === null || !('args' in body)) {
      sendJson(
        response,
        400,
        errorBody('usage', `${method}: the request body must be JSON: {"args": [...]}`),
      );
      return;
    }
    sendJson(response, 200, await dispatchApiCall(handlers, method, (body as { args: unknown }).args));
  };

  const handleUpload = async (
    request: IncomingMessage,
    response: ServerResponse,
    rest: string,
  ): Promise<void> => {
    if (request.method !== 'PUT') {
      response.setHeader('Allow', 'PUT');
      sendJson(response, 405, errorBody('usage', 'upload: use PUT'));
      return;
    }
    const [batchId = '', ...encoded] = rest.split('/');
    try {
      if (!/^[0-9a-f]{32}$/.test(batchId))
        throw new UploadError(400, 'upload: the batch id must be 32 lowercase hex characters');
      let segments: string[];
      try {
        segments = sanitizeUploadPath(encoded);
      } catch (error) {
        throw new UploadError(400, (error as Error).message);
      }
      const declared = request.headers['content-length'];
      const stored = await uploads.receive(
        batchId,
        segments,
        request,
        declared === undefined ? undefined : Number(declared),
      );
      sendJson(response, 200, { ok: true, value: stored });
    } catch (error) {
      const status = error instanceof UploadError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status === 500) log(`pollard serve: upload failed: ${message}`);
      const reply = (): void =>
        sendJson(response, status, errorBody(status === 500 ? 'io' : 'usage', message));
      if (request.readableEnded) reply();
      else refuseBody(request, response, reply);
    }
  };

  const handleStatic = async (
    request: IncomingMessage,
    response: ServerResponse,
    rawPath: string,
  ): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      sendText(response, 405, 'method not allowed');
      return;
    }
    const found = await findStaticFile(rendererDir, rawPath);
    if (!found) {
      if (rawPath === '/') {
        sendText(
          response,
          503,
          `the renderer is not built (${path.join(rendererDir, 'index.html')} is missing): run npm run build:renderer`,
        );
      } else sendText(response, 404, 'not found');
      return;
    }
    response.writeHead(200, {
      'Content-Type': contentTypeOf(found.file),
      'Content-Length': found.bytes,
      'Cache-Control': cacheControlOf(rawPath),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(found.file)
      .on('error', () => response.destroy())
      .pipe(response);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    setCommonHeaders(response);
    const hostHeader = request.headers.host;
    if (!hostAllowed(hostHeader, host, port)) {
      sendText(response, 403, 'forbidden: unexpected Host header');
      return;
    }
    response.setHeader('Content-Security-Policy', contentSecurityPolicy([`ws://${hostHeader}`]));
    const target = request.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1));
    if (!rawPath.startsWith('/')) {
      sendText(response, 400, 'bad request');
      return;
    }
    const offered = query.get('token');
    if (rawPath === '/' && offered !== null && request.method === 'GET') {
      if (!tokensEqual(offered, token)) {
        sendText(response, 401, 'unauthorized: this token is not the one pollard serve printed');
        return;
      }
      response.writeHead(302, {
        Location: '/',
        'Set-Cookie': tokenCookie(token),
        'Cache-Control': 'no-store',
      });
      response.end();
      return;
    }
    if (!isAuthorized(request, token)) {
      sendText(response, 401, 'unauthorized: open the URL with ?token=… that pollard serve printed');
      return;
    }
    if (request.headers.origin !== undefined && !originAllowed(request.headers.origin, hostHeader)) {
      sendText(response, 403, 'forbidden: cross-origin request');
      return;
    }
    if (rawPath.startsWith(SERVE_PATHS.call))
      return handleApiCall(request, response, rawPath.slice(SERVE_PATHS.call.length));
    if (rawPath.startsWith(SERVE_PATHS.upload))
      return handleUpload(request, response, rawPath.slice(SERVE_PATHS.upload.length));
    return handleStatic(request, response, rawPath);
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`pollard serve: ${request.method} ${request.url?.split('?')[0]}: ${(error as Error).message}`);
      if (!response.headersSent) sendText(response, 500, 'internal error');
      else response.destroy();
    });
  });
  const events = attachEventSocket(server, {
    service: options.service,
    token,
    hostAllowed: (hostHeader) => hostAllowed(hostHeader, host, port),
  });

  const requested = options.port ?? DEFAULT_PORT;
  const attempts = options.port === undefined ? 10 : 1;
  for (let attempt = 0; ; attempt++) {
    try {
      port = await listen(server, host, requested === 0 ? 0 : requested + attempt);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && attempt + 1 < attempts) continue;
      events.close();
      if (code === 'EADDRINUSE')
        throw usageError(`--port ${requested + attempt}: already in use; choose another port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
        throw usageError(`--host ${host}: not an address of this machine`);
      throw error;
    }
  }

  const url = `http://${urlHost(host)}:${port}/`;
  return {
    host,
    port,
    token,
    url,
    tokenUrl: `${url}?token=${token}`,
    close: async () => {
      clearInterval(retention);
      events.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
