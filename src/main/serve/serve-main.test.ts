import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { ApiResponse, SystemInfo } from '../../shared/api';
import { PACKAGE_ROOT } from '../util/paths';
import { parseServeArguments } from './serve-main';

describe('parseServeArguments', () => {
  it('reads --host and --port, and refuses anything else', () => {
    expect(parseServeArguments([])).toEqual({});
    expect(parseServeArguments(['--host', '0.0.0.0', '--port', '0'])).toEqual({ host: '0.0.0.0', port: 0 });
    expect(() => parseServeArguments(['--port', '70000'])).toThrow(
      '--port 70000: expected an integer 0…65535',
    );
    expect(() => parseServeArguments(['--port', 'x'])).toThrow('--port x: expected an integer 0…65535');
    expect(() => parseServeArguments(['--open'])).toThrow(/Unknown option '--open'/);
  });
});

describe('the bundled server (out/app/serve) with the bundled job process (out/app/worker)', () => {
  it('builds, starts, and answers getSystemInfo from a real job', async () => {
    const built = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'scripts', 'build-app.mjs')], {
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-serve-bundle-'));
    const child = spawn(
      process.execPath,
      [path.join(PACKAGE_ROOT, 'out', 'app', 'serve', 'index.js'), '--port', '0'],
      {
        env: { ...process.env, POLLARD_DATA_DIR: dataDir, POLLARD_BACKEND: 'cpu' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = new URL(
        await new Promise<string>((resolve) =>
          createInterface({ input: child.stdout }).once('line', resolve),
        ),
      );
      const response = await fetch(new URL('/api/call/getSystemInfo', url), {
        method: 'POST',
        headers: { Authorization: `Bearer ${url.searchParams.get('token')}` },
        body: '{"args":[]}',
      });
      const reply = (await response.json()) as ApiResponse<SystemInfo>;
      expect(reply.ok, JSON.stringify(reply)).toBe(true);
      const info = (reply as { value: SystemInfo }).value;
      expect(info.backends.find((rung) => rung.status === 'used')?.name).toBe('cpu');
      // The bundle resolves the package root like the sources do.
      expect(info.system.samplePath).toBe(
        path.join(PACKAGE_ROOT, 'resources', 'samples', 'fashion-mnist-small'),
      );
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
