/**
 * `pollard serve` under load and attack (issue #15 item 8): 50 event-socket clients at once get
 * all 500 events of a job (1 kB each) in order while one client that never reads is left behind without
 * stalling them; 200 hostile requests (oversized and malformed bodies, traversal in upload
 * names, wrong tokens, foreign Host headers, foreign WebSocket origins) each get a 4xx, and the
 * server still serves afterwards.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobMessage } from '../../shared/api';
import { AppService } from '../services/app-service';
import { type FakeJob, fakeLauncher, started } from '../services/testing/fake-launcher';
import { type PollardServer, startServer } from './server';

const EVENTS = 500;
const CLIENTS = 50;

let root: string;
let service: AppService;
let server: PollardServer;
let release!: () => void;
const go = new Promise<void>((resolve) => (release = resolve));

/** A job that waits for the clients to connect, then emits EVENTS log lines and finishes. */
async function chatty(job: FakeJob): Promise<void> {
  started(job);
  await go;
  for (let i = 0; i < EVENTS; i++)
    job.emit({ type: 'log', level: 'info', message: `line ${i} ${'x'.repeat(1000)}` });
  job.emit({ type: 'cancelled', epoch: 1, batch: 1 });
  job.exit(0);
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-serve-stress-'));
  const renderer = path.join(root, 'renderer');
  await fs.mkdir(renderer, { recursive: true });
  await fs.writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>Pollard</title>');
  service = await AppService.create({
    dataDir: path.join(root, 'data'),
    createLauncher: () => fakeLauncher(chatty),
    graceMs: 100,
  });
  server = await startServer({
    service,
    rendererDir: renderer,
    port: 0,
    uploadLimits: { fileBytes: 1000, batchBytes: 1500, batchFiles: 3 },
  });
});

afterAll(async () => {
  await service.shutdown();
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});

const host = () => `127.0.0.1:${server.port}`;
const cookie = () => `pollard_token=${server.token}`;

function request(
  method: string,
  target: string,
  headers: Record<string, string | number>,
  body?: string | Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path: target, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    // The server may answer (and close) before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(-1) : reject(error),
    );
    req.end(body);
  });
}

function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.on('error', () => undefined);
  });
}

describe('pollard serve under load', () => {
  it(`streams every event in order to ${CLIENTS} clients while one client never reads`, async () => {
    const received: JobMessage[][] = Array.from({ length: CLIENTS }, () => []);
    const sockets = await Promise.all(
      received.map(
        (list) =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://${host()}/api/events`, {
              headers: { Cookie: cookie(), Origin: `http://${host()}` },
            });
            ws.on('message', (data) => list.push(JSON.parse(String(data)) as JobMessage));
            ws.on('open', () => resolve(ws));
            ws.on('error', reject);
          }),
      ),
    );
    // A raw client that completes the handshake and then never reads a byte.
    const stalled = net.connect(server.port, '127.0.0.1');
    stalled.write(
      `GET /api/events HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${cookie()}\r\nOrigin: http://${host()}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    stalled.pause();

    const startedJob = await service.startJob({ kind: 'train', data: '/d', arch: 'lenet' });
    release();
    const total = EVENTS + 2; // started, the log lines, cancelled
    await expect
      .poll(() => Math.min(...received.map((list) => list.length)), { timeout: 20_000 })
      .toBe(total);
    for (const list of received) {
      const lines = list
        .filter((m) => m.event.type === 'log')
        .map((m) => (m.event as { message: string }).message);
      expect(lines.map((line) => Number(line.split(' ')[1]))).toEqual(
        Array.from({ length: EVENTS }, (_, i) => i),
      );
      expect(list.every((m) => m.jobId === startedJob.jobId)).toBe(true);
      expect(list.at(-1)!.event.type).toBe('cancelled');
    }
    for (const ws of sockets) ws.close();
    stalled.destroy();
  }, 30_000);
});

describe('pollard serve under attack', () => {
  it('answers 200 hostile requests with a 4xx each, and still serves', async () => {
    const good = { Host: host(), Cookie: cookie() };
    const json = { ...good, 'Content-Type': 'application/json' };
    const attacks: (() => Promise<number>)[] = [];
    for (let i = 0; i < 20; i++) {
      attacks.push(
        // Wrong, truncated or missing token; token in a foreign cookie name.
        () => request('GET', '/', { Host: host(), Cookie: `pollard_token=${'0'.repeat(64)}` }),
        () =>
          request('GET', '/api/call/listJobs', {
            Host: host(),
            Cookie: `pollard_token=${server.token.slice(0, 63)}`,
          }),
        () =>
          request(
            'POST',
            '/api/call/listJobs',
            { Host: host(), 'Content-Type': 'application/json' },
            '{"args":[]}',
          ),
        // DNS rebinding: a foreign Host with the right token.
        () =>
          request(
            'POST',
            '/api/call/listJobs',
            { ...json, Host: `evil.example:${server.port}` },
            '{"args":[]}',
          ),
        // Malformed and oversized bodies.
        () => request('POST', '/api/call/listJobs', json, '{"args": [1, 2'),
        // A method that is not the API's: a prototype key.
        () => request('POST', '/api/call/__proto__', json, '{"args":[]}'),
        () => request('POST', '/api/call/listJobs', json, Buffer.alloc(1_100_000, 'a')),
        // Traversal and odd names in uploads.
        () =>
          request(
            'PUT',
            `/api/upload/0123456789abcdef0123456789abcdef/${encodeURIComponent('../../etc/passwd')}`,
            good,
            'x',
          ),
        () => request('PUT', '/api/upload/0123456789abcdef0123456789abcdef/..%2F..%2Fsecret', good, 'x'),
        // Foreign WebSocket origins, and an upgrade without an Origin.
        () => upgrade({ Cookie: cookie(), Origin: 'http://evil.example' }),
      );
    }
    expect(attacks).toHaveLength(200);
    // In waves of 20, so the 200 overlap without exhausting sockets.
    const statuses: number[] = [];
    for (let i = 0; i < attacks.length; i += 20) {
      statuses.push(...(await Promise.all(attacks.slice(i, i + 20).map((attack) => attack()))));
    }
    const refused = statuses.filter((s) => s >= 400 && s < 500);
    // An oversized body may be cut off (connection reset, -1) after the 413 is sent.
    const reset = statuses.filter((s) => s === -1);
    expect(refused.length + reset.length).toBe(200);
    expect(reset.length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s >= 200 && s < 400)).toEqual([]);
    // Still serving.
    expect(await request('GET', '/', good)).toBe(200);
    expect(await request('POST', '/api/call/listJobs', json, JSON.stringify({ args: [] }))).toBe(200);
  }, 60_000);
});
