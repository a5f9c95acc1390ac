/** Small HTTP helpers every `pollard serve` route shares: headers, replies, bounded bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiResponse } from '../../shared/api';
import type { SerializedError } from '../../shared/errors';

/** A request refused with an HTTP status and a one-line reason. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a route is given: the request, the response, and the URL split into path and query. */
export interface RouteRequest {
  request: IncomingMessage;
  response: ServerResponse;
  /** The URL path, still percent-encoded, without the query. */
  rawPath: string;
  query: URLSearchParams;
}

export function setCommonHeaders(response: ServerResponse): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  response.setHeader('X-Frame-Options', 'DENY');
}

export function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(text + '\n');
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-store',
  });
  response.end(json);
}

export function errorBody(code: SerializedError['code'], message: string): ApiResponse {
  return { ok: false, error: { code, message } };
}

export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
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
export function refuseBody(request: IncomingMessage, response: ServerResponse, send: () => void): void {
  response.setHeader('Connection', 'close');
  send();
  response.once('finish', () => request.destroy());
}
