import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadUrlPath, downloadZipUrlPath } from '../../shared/api';
import { jobSpecSchema } from '../../shared/jobs';
import { AppService } from '../services/app-service';
import { fakeLauncher, runsUntilCancelled } from '../services/testing/fake-launcher';
import { contentDisposition } from './routes/downloads';
import { type PollardServer, startServer } from './server';

let root: string;
let runDir: string;
let service: AppService;
let server: PollardServer;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(target: string, options: { auth?: boolean; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: `127.0.0.1:${server.port}` };
    if (options.auth !== false) headers.Cookie = `pollard_token=${server.token}`;
    const request = http.request(
      { host: '127.0.0.1', port: server.port, method: options.method ?? 'GET', path: target, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** A raw path and query, sent as written (no URL normalisation of `..`). */
const raw = (run: string, file: string): string =>
  `/api/download?run=${encodeURIComponent(run)}&file=${encodeURIComponent(file)}`;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-downloads-'));
  const renderer = path.join(root, 'renderer');
  await fs.mkdir(renderer, { recursive: true });
  await fs.writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>Pollard</title>');
  runDir = path.join(root, 'runs', 'compress-1');
  await fs.mkdir(path.join(runDir, 'export', 'model'), { recursive: true });
  await fs.mkdir(path.join(runDir, 'report'), { recursive: true });
  const spec = jobSpecSchema.parse({
    kind: 'compress',
    model: '/m',
    data: '/d',
    out: runDir,
    method: 'quantize',
  });
  await fs.writeFile(
    path.join(runDir, 'run.json'),
    JSON.stringify({
      format: 'pollard-run/1',
      id: 'r1',
      kind: 'compress',
      spec,
      status: 'completed',
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:05:00.000Z',
      hostPid: 1,
      seed: 42,
      pollardVersion: '0.1.0',
      resumes: 0,
    }),
  );
  await fs.writeFile(path.join(runDir, 'export', 'report.html'), '<!doctype html><p>report</p>');
  await fs.writeFile(path.join(runDir, 'export', 'model', 'model.json'), '{"format":"layers-model"}');
  await fs.writeFile(path.join(runDir, 'export', 'model', 'weights.bin'), Buffer.alloc(300_000, 7));
  await fs.writeFile(path.join(runDir, 'report', 'report.json'), '{"n":1}');
  await fs.writeFile(path.join(root, 'secret.txt'), 'do not serve');
  await fs.symlink(path.join(root, 'secret.txt'), path.join(runDir, 'export', 'link.txt'));
  await fs.mkdir(path.join(root, 'not-a-run'), { recursive: true });
  await fs.writeFile(path.join(root, 'not-a-run', 'a.txt'), 'a');
  service = await AppService.create({
    dataDir: path.join(root, 'data'),
    createLauncher: () => fakeLauncher(runsUntilCancelled()),
    graceMs: 100,
  });
  server = await startServer({ service, rendererDir: renderer, port: 0 });
});

afterAll(async () => {
  await service.shutdown();
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('pollard serve: downloads', () => {
  it('sends a file of the run as an attachment with its size', async () => {
    const reply = await get(downloadUrlPath(runDir, 'export/model/model.json'));
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('{"format":"layers-model"}');
    expect(reply.headers['content-type']).toBe('application/octet-stream');
    expect(reply.headers['content-length']).toBe('25');
    expect(reply.headers['content-disposition']).toBe(
      `attachment; filename="model.json"; filename*=UTF-8''model.json`,
    );
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('opens the HTML report inline, sandboxed', async () => {
    const reply = await get(downloadUrlPath(runDir, 'export/report.html', true));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-disposition']).toMatch(/^inline; filename="report.html"/);
    expect(reply.headers['content-security-policy']).toBe(
      "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
  });

  it('needs the token', async () => {
    const reply = await get(downloadUrlPath(runDir, 'export/report.html'), { auth: false });
    expect(reply.status).toBe(401);
  });

  it.each([
    ['../secret.txt', 400, 'download: file must not have empty, "." or ".." segments'],
    ['export/../../secret.txt', 400, 'download: file must not have empty, "." or ".." segments'],
    ['/etc/passwd', 400, 'download: file must be a path inside the run folder, with /'],
    ['export\\..\\..\\secret.txt', 400, 'download: file must be a path inside the run folder, with /'],
    ['export//report.html', 400, 'download: file must not have empty, "." or ".." segments'],
    ['export/link.txt', 403, 'download: export/link.txt: outside the run folder'],
    ['export/missing.txt', 404, 'download: export/missing.txt: not found in the run folder'],
    ['export/model', 404, 'download: export/model: not a file'],
  ])('refuses %s with %i', async (file, status, message) => {
    const reply = await get(raw(runDir, file));
    expect(reply.status).toBe(status);
    expect(reply.body.toString()).toBe(`${message}\n`);
    expect(reply.body.toString()).not.toContain('do not serve');
  });

  it('refuses a path that is not a run, or a relative run', async () => {
    const notRun = await get(raw(path.join(root, 'not-a-run'), 'a.txt'));
    expect(notRun.status).toBe(404);
    expect(notRun.body.toString()).toBe(
      `download: ${path.join(root, 'not-a-run')} is not a Pollard run folder\n`,
    );
    const relative = await get(raw('runs/compress-1', 'run.json'));
    expect(relative.status).toBe(400);
    const missing = await get('/api/download?file=run.json');
    expect(missing.status).toBe(400);
  });

  it('answers only GET and HEAD', async () => {
    const reply = await get(downloadUrlPath(runDir, 'run.json'), { method: 'POST' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, HEAD');
  });

  it('streams the export and the report as one zip', async () => {
    const reply = await get(downloadZipUrlPath(runDir));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/zip');
    expect(reply.headers['content-length']).toBeUndefined();
    expect(reply.headers['content-disposition']).toMatch(/^attachment; filename="compress-1-export.zip"/);
    const entries = unzipSync(new Uint8Array(reply.body));
    expect(Object.keys(entries).sort()).toEqual([
      'compress-1/export/model/model.json',
      'compress-1/export/model/weights.bin',
      'compress-1/export/report.html',
      'compress-1/report/report.json',
    ]);
    expect(entries['compress-1/export/model/weights.bin']!.length).toBe(300_000);
    expect(entries['compress-1/export/model/weights.bin']!.every((b) => b === 7)).toBe(true);
    expect(Buffer.from(entries['compress-1/report/report.json']!).toString()).toBe('{"n":1}');
  });

  it('says when a run has nothing to zip', async () => {
    const empty = path.join(root, 'runs', 'empty');
    await fs.mkdir(empty, { recursive: true });
    await fs.copyFile(path.join(runDir, 'run.json'), path.join(empty, 'run.json'));
    const reply = await get(downloadZipUrlPath(empty));
    expect(reply.status).toBe(404);
    expect(reply.body.toString()).toBe('download: this run has no export or report yet\n');
  });

  it('names files with non-ASCII characters safely', () => {
    expect(contentDisposition('attachment', 'Bericht "ü".html')).toBe(
      `attachment; filename="Bericht ___.html"; filename*=UTF-8''Bericht%20%22%C3%BC%22.html`,
    );
  });
});
