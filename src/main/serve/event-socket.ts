/**
 * The WebSocket at /api/events: one JSON JobMessage per message, for every job. A new
 * connection first gets the buffered events of jobs still queued or running, so a reloaded
 * page recovers its state. The upgrade is checked like any request (Host, token) and its
 * Origin must be this server: browsers do not apply the same-origin policy to WebSockets.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { SERVE_PATHS } from '../../shared/api';
import type { AppService } from '../services/app-service';
import { isAuthorized, originAllowed } from './auth';

/** A client this far behind is dropped (it reconnects and gets a replay). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;

export interface EventSocketOptions {
  service: AppService;
  token: string;
  hostAllowed: (hostHeader: string | undefined) => boolean;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export function attachEventSocket(server: http.Server, options: EventSocketOptions): { close(): void } {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const alive = new WeakSet<WebSocket>();

  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const rawPath = (request.url ?? '').split('?')[0];
    if (!options.hostAllowed(request.headers.host)) return refuse(socket, 403, 'Forbidden');
    if (!isAuthorized(request, options.token)) return refuse(socket, 401, 'Unauthorized');
    if (!originAllowed(request.headers.origin, request.headers.host)) return refuse(socket, 403, 'Forbidden');
    if (rawPath !== SERVE_PATHS.events) return refuse(socket, 404, 'Not Found');
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  sockets.on('connection', (ws: WebSocket) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    const send = (message: unknown): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.close(1013, 'too far behind; reconnect');
        return;
      }
      ws.send(JSON.stringify(message));
    };
    // Replay and subscribe in one turn of the event loop, so no event falls between them.
    const replay = options.service.replay();
    const unsubscribe = options.service.subscribe(send);
    for (const message of replay) send(message);
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
    // The client has nothing to say; anything it sends is ignored.
  });

  const heartbeat = setInterval(() => {
    for (const ws of sockets.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    close: () => {
      clearInterval(heartbeat);
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
    },
  };
}
