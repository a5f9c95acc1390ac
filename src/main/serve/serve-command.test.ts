import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, SystemInfo } from '../../shared/api';
import { PACKAGE_ROOT } from '../util/paths';

let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-serve-cli-'));
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('pollard serve (the CLI command, with real job processes)', () => {
  it('prints the URL, answers getSystemInfo from a real info job, and stops cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [path.join(PACKAGE_ROOT, 'bin', 'pollard.mjs'), 'serve', '--port', '0'],
      {
        env: { ...process.env, POLLARD_DATA_DIR: dataDir, POLLARD_BACKEND: 'cpu' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', () => reject(new Error(`pollard serve exited early: ${stderr}`)));
    });
    const match = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64})$/.exec(firstLine);
    expect(match, firstLine).not.toBeNull();
    const [, port, token] = match!;
    expect(stderr).toContain(`pollard serve: open ${firstLine}`);

    const response = await fetch(`http://127.0.0.1:${port}/api/call/getSystemInfo`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [] }),
    });
    expect(response.status).toBe(200);
    const reply = (await response.json()) as ApiResponse<SystemInfo>;
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    const info = (reply as { value: SystemInfo }).value;
    expect(info.pollardVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.backends.map((rung) => rung.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(info.backends.find((rung) => rung.status === 'used')?.name).toBe('cpu');
    expect(info.versions.node).toBe(process.versions.node);
    expect(info.system.dataDirectory).toBe(dataDir);

    const unauthorized = await fetch(`http://127.0.0.1:${port}/api/call/getSystemInfo`, {
      method: 'POST',
      body: '{"args":[]}',
    });
    expect(unauthorized.status).toBe(401);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toContain('pollard serve: stopped');
  });
});
