import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobMessage } from '../../shared/api';
import { AppService } from '../services/app-service';
import { runsUntilCancelled, fakeLauncher } from '../services/testing/fake-launcher';
import { type PollardServer, startServer } from './server';

let root: string;
let service: AppService;
let server: PollardServer;
let cookie: string;

const CSP = (port: number) =>
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
  `connect-src 'self' ws://127.0.0.1:${port}; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(
  method: string,
  target: string,
  options: {
    headers?: Record<string, string | number>;
    body?: string | Buffer | Buffer[];
    auth?: boolean;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      Host: `127.0.0.1:${server.port}`,
      ...(options.auth === false ? {} : { Cookie: cookie }),
      ...options.headers,
    };
    const request = http.request(
      { host: '127.0.0.1', port: server.port, method, path: target, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    request.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) {
      // Chunked: no Content-Length, the server counts as the bytes arrive.
      for (const part of body) request.write(part);
      request.end();
    } else request.end(body);
  });
}

const call = async (method: string, args: unknown[]) => {
  const reply = await send('POST', `/api/call/${method}`, {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ args }),
  });
  return { status: reply.status, json: JSON.parse(reply.body) };
};

const BATCH = '0123456789abcdef0123456789abcdef';

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-serve-'));
  const renderer = path.join(root, 'renderer');
  await fs.mkdir(path.join(renderer, 'assets'), { recursive: true });
  await fs.writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>Pollard</title>');
  await fs.writeFile(path.join(renderer, 'assets', 'app-1234.js'), 'console.log(1)');
  await fs.writeFile(path.join(root, 'secret.txt'), 'do not serve');
  service = await AppService.create({
    dataDir: path.join(root, 'data'),
    createLauncher: () => fakeLauncher(runsUntilCancelled()),
    graceMs: 100,
  });
  server = await startServer({
    service,
    rendererDir: renderer,
    port: 0,
    uploadLimits: { fileBytes: 1000, batchBytes: 1500, batchFiles: 3 },
  });
  cookie = `pollard_token=${server.token}`;
});

afterAll(async () => {
  await service.shutdown();
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('pollard serve: who may connect', () => {
  it('prints a URL with a 64-hex token, bound to 127.0.0.1', () => {
    expect(server.tokenUrl).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{64}$`),
    );
  });

  it('requires the token on every request', async () => {
    for (const target of ['/', '/assets/app-1234.js', '/api/call/getSettings']) {
      const api = target.startsWith('/api');
      const reply = await send(api ? 'POST' : 'GET', target, {
        auth: false,
        ...(api ? { body: '{"args":[]}' } : {}),
      });
      expect(reply.status, target).toBe(401);
    }
    expect(
      (await send('GET', '/', { auth: false, headers: { Cookie: 'pollard_token=' + '0'.repeat(64) } }))
        .status,
    ).toBe(401);
    expect((await send('GET', '/?token=' + '1'.repeat(64), { auth: false })).status).toBe(401);
  });

  it('swaps the token in the URL for an HttpOnly, SameSite=Strict cookie and redirects to /', async () => {
    const reply = await send('GET', `/?token=${server.token}`, { auth: false });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('/');
    expect(reply.headers['set-cookie']).toEqual([
      `pollard_token=${server.token}; HttpOnly; SameSite=Strict; Path=/`,
    ]);
    const page = await send('GET', '/', {
      auth: false,
      headers: { Cookie: `other=1; ${reply.headers['set-cookie']![0]!.split(';')[0]}` },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Pollard</title>');
  });

  it('accepts the token as a Bearer header', async () => {
    const reply = await send('GET', '/', {
      auth: false,
      headers: { Authorization: `Bearer ${server.token}` },
    });
    expect(reply.status).toBe(200);
  });

  it('refuses an unexpected Host header (DNS rebinding) even with the token', async () => {
    for (const host of [
      'evil.example:' + server.port,
      `127.0.0.1:${server.port + 1}`,
      '127.0.0.1',
      `localhost.evil:${server.port}`,
    ]) {
      const reply = await send('GET', '/', { headers: { Host: host } });
      expect(reply.status, host).toBe(403);
      expect(reply.body).toBe('forbidden: unexpected Host header\n');
    }
    for (const host of [`localhost:${server.port}`, `[::1]:${server.port}`, `LOCALHOST:${server.port}`]) {
      expect((await send('GET', '/', { headers: { Host: host } })).status, host).toBe(200);
    }
  });

  it('refuses cross-origin requests and never sends CORS headers', async () => {
    const foreign = await send('POST', '/api/call/getSettings', {
      headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' },
      body: '{"args":[]}',
    });
    expect(foreign.status).toBe(403);
    const same = await send('POST', '/api/call/getSettings', {
      headers: { Origin: `http://127.0.0.1:${server.port}` },
      body: '{"args":[]}',
    });
    expect(same.status).toBe(200);
    for (const reply of [foreign, same]) {
      expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('pollard serve: the renderer', () => {
  it('serves index.html and assets with the strict CSP and nosniff', async () => {
    const page = await send('GET', '/');
    expect(page.headers['content-security-policy']).toBe(CSP(server.port));
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const asset = await send('GET', '/assets/app-1234.js');
    expect(asset.status).toBe(200);
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('serves nothing outside the renderer folder', async () => {
    for (const target of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/.hidden',
      '/assets/nope.js',
    ]) {
      const reply = await send('GET', target);
      expect(reply.status, target).toBe(404);
      expect(reply.body).not.toContain('do not serve');
    }
  });
});

describe('pollard serve: API calls', () => {
  it('answers a call with {ok, value}', async () => {
    const { status, json } = await call('getSettings', []);
    expect(status).toBe(200);
    expect(json).toEqual({ ok: true, value: expect.objectContaining({ backend: 'auto', pue: 1 }) });
    expect((await call('pickPath', ['dataset-file'])).json).toEqual({ ok: true, value: null });
  });

  it('validates every argument and answers errors as data', async () => {
    expect((await call('updateSettings', [{ pue: 'high' }])).json).toEqual({
      ok: false,
      error: {
        code: 'usage',
        message: 'updateSettings: pue: Invalid input: expected number, received string',
      },
    });
    expect(
      (await call('startJob', [{ kind: 'train', data: 'relative', arch: 'lenet' }])).json.error.message,
    ).toBe('startJob: data: must be an absolute path (got "relative")');
    expect((await call('openFolder', ['/srv/runs/x'])).json).toEqual({
      ok: false,
      error: {
        code: 'usage',
        message: 'not available in the browser; the files are in /srv/runs/x on the server',
      },
    });
  });

  it('answers 404 for unknown methods, 405 for GET, 400 for a malformed body, 413 over 1 MB', async () => {
    for (const method of ['nope', 'resolveFiles', '__proto__', 'constructor']) {
      expect((await call(method, [])).status, method).toBe(404);
    }
    expect((await send('GET', '/api/call/getSettings')).status).toBe(405);
    const malformed = await send('POST', '/api/call/getSettings', { body: '{args' });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).error.message).toBe(
      'getSettings: the request body must be JSON: {"args": [...]}',
    );
    const big = await send('POST', '/api/call/getSettings', {
      body: JSON.stringify({ args: ['x'.repeat(1024 * 1024)] }),
    });
    expect(big.status).toBe(413);
    const bigChunked = await send('POST', '/api/call/getSettings', {
      body: [Buffer.alloc(700_000, 32), Buffer.alloc(700_000, 32)],
    });
    expect(bigChunked.status).toBe(413);
  });
});

describe('pollard serve: uploads', () => {
  const put = (
    target: string,
    body: string | Buffer | Buffer[],
    headers: Record<string, string | number> = {},
  ) => send('PUT', `/api/upload/${target}`, { body, headers });

  it('stores files under the batch folder and returns the folder (or the single file) to open', async () => {
    const batch = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    expect((await put(`${batch}/fm/train-images%20v1.idx`, 'abc')).status).toBe(200);
    expect(JSON.parse((await put(`${batch}/fm/labels.idx`, '12345')).body)).toEqual({
      ok: true,
      value: { path: 'fm/labels.idx', bytes: 5 },
    });
    const finished = await call('finishUpload', [batch]);
    const folder = path.join(root, 'data', 'uploads', batch, 'fm');
    expect(finished.json).toEqual({ ok: true, value: folder });
    expect(await fs.readFile(path.join(folder, 'train-images v1.idx'), 'utf8')).toBe('abc');
    expect((await fs.readdir(folder)).sort()).toEqual(['labels.idx', 'train-images v1.idx']);
    expect((await put(`${batch}/fm/late.idx`, 'x')).status).toBe(409);

    const single = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    await put(`${single}/model.h5`, 'h5');
    expect((await call('finishUpload', [single])).json.value).toBe(
      path.join(root, 'data', 'uploads', single, 'model.h5'),
    );
  });

  it('refuses path traversal and odd names, writing nothing', async () => {
    const cases: [string, string][] = [
      [
        '..%2F..%2Fescape.txt',
        'upload: the file path has a separator, colon or drive letter inside a segment',
      ],
      ['%2e%2e/%2e%2e/escape.txt', 'upload: the file path has a ".." segment'],
      ['../escape.txt', 'upload: the file path has a ".." segment'],
      ['a//b', 'upload: the file path has an empty segment'],
      ['C%3A/x', 'upload: the file path has a separator, colon or drive letter inside a segment'],
      ['a%00b', 'upload: the file path has a control character'],
      ['a%5Cb', 'upload: the file path has a separator, colon or drive letter inside a segment'],
      ['nul.txt', 'upload: the file path has a reserved device name "nul.txt"'],
      [Array.from({ length: 17 }, () => 'd').join('/'), 'upload: the file path has more than 16 segments'],
      ['%E0%A4%A', 'upload: the file path is not valid URL encoding'],
    ];
    for (const [relative, message] of cases) {
      const reply = await put(`${BATCH}/${relative}`, 'x');
      expect(reply.status, relative).toBe(400);
      expect(JSON.parse(reply.body).error.message, relative).toBe(message);
    }
    expect((await put(`NOT-HEX/a.txt`, 'x')).status).toBe(400);
    await expect(fs.access(path.join(root, 'data', 'escape.txt'))).rejects.toThrow();
    await expect(fs.access(path.join(root, 'escape.txt'))).rejects.toThrow();
  });

  it('answers 413 over the per-file, per-batch and file-count limits, keeping no partial file', async () => {
    const batch = 'cccccccccccccccccccccccccccccccc';
    const dir = path.join(root, 'data', 'uploads', batch);
    const declared = await put(`${batch}/big.bin`, Buffer.alloc(1001));
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.message).toBe(
      'upload big.bin: larger than the 1000 bytes limit per file',
    );
    const streamed = await put(`${batch}/big2.bin`, [Buffer.alloc(600), Buffer.alloc(600)]);
    expect(streamed.status).toBe(413);
    expect((await put(`${batch}/a.bin`, Buffer.alloc(800))).status).toBe(200);
    const overBatch = await put(`${batch}/b.bin`, Buffer.alloc(800));
    expect(overBatch.status).toBe(413);
    expect(JSON.parse(overBatch.body).error.message).toBe(
      `upload batch ${batch}: larger than the 1500 bytes limit per batch`,
    );
    expect((await put(`${batch}/c.bin`, 'c')).status).toBe(200);
    expect((await put(`${batch}/d.bin`, 'd')).status).toBe(200);
    const tooMany = await put(`${batch}/e.bin`, 'e');
    expect(tooMany.status).toBe(413);
    expect(JSON.parse(tooMany.body).error.message).toBe(`upload batch ${batch}: more than 3 files`);
    expect((await fs.readdir(dir)).sort()).toEqual(['a.bin', 'c.bin', 'd.bin']);
  });
});

describe('pollard serve: the event WebSocket', () => {
  const connect = (headers: Record<string, string>, messages: JobMessage[] = []) =>
    new Promise<{ ws?: WebSocket; status?: number }>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, { headers });
      // Listen at once: the replay may arrive in the same packet as the upgrade response.
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      ws.on('open', () => resolve({ ws }));
      ws.on('unexpected-response', (_request, response) => resolve({ status: response.statusCode! }));
      ws.on('error', () => undefined);
    });
  const origin = () => `http://127.0.0.1:${server.port}`;

  it('refuses an upgrade without the cookie, from a foreign Origin, or without an Origin', async () => {
    expect((await connect({ Origin: origin() })).status).toBe(401);
    expect((await connect({ Cookie: cookie, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await connect({ Cookie: cookie })).status).toBe(403);
    expect(
      (await connect({ Cookie: cookie, Origin: origin(), Host: `evil.example:${server.port}` })).status,
    ).toBe(403);
  });

  it('replays the events of a running job on connect, then streams live ones', async () => {
    const started = await call('startJob', [{ kind: 'train', data: '/d', arch: 'lenet' }]);
    const jobId = started.json.value.jobId as string;
    await expect.poll(async () => (await service.listJobs())[0]?.state).toBe('running');
    // The job's first events wait for its run folder (created with fsync), then reach the buffer.
    await expect.poll(() => service.replay().length, { timeout: 10_000 }).toBe(2);
    const messages: JobMessage[] = [];
    const { ws } = await connect({ Cookie: cookie, Origin: origin() }, messages);
    await expect.poll(() => messages.length).toBe(2);
    expect(messages.map((m) => [m.jobId, m.event.type])).toEqual([
      [jobId, 'started'],
      [jobId, 'stage'],
    ]);
    expect((await call('cancelJob', [jobId])).json).toEqual({ ok: true, value: null });
    await expect.poll(() => messages.length).toBe(3);
    expect(messages[2]!.event.type).toBe('cancelled');
    ws!.close();
  });
});
