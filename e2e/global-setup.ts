/**
 * Starts one real `pollard serve` for the whole run: a temporary data folder, any free port,
 * and the URL with the token read from what the server prints. The specs find it through
 * POLLARD_E2E_URL and POLLARD_E2E_DATA_DIR. Set POLLARD_E2E_URL (and POLLARD_E2E_DATA_DIR)
 * yourself to run against a server that is already running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const URL_PATTERN = /http:\/\/[^\s/]+\/\?token=[0-9a-f]{64}/;

function waitForUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`pollard serve printed no URL within ${timeoutMs / 1000} s:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = URL_PATTERN.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pollard serve exited with code ${code}:\n${output}`));
    });
  });
}

export default async function globalSetup(): Promise<(() => Promise<void>) | void> {
  if (!existsSync(path.join(ROOT, 'out/renderer/index.html'))) {
    throw new Error(
      'out/renderer/index.html is missing: run `npm run build:renderer` first (npm run test:e2e does)',
    );
  }
  if (process.env.POLLARD_E2E_URL) return;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-'));
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/pollard.mjs'), 'serve', '--host', '127.0.0.1', '--port', '0'],
    {
      cwd: ROOT,
      env: { ...process.env, POLLARD_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const url = await waitForUrl(child, 60_000);
  process.env.POLLARD_E2E_URL = url;
  process.env.POLLARD_E2E_DATA_DIR = dataDir;
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    if (!process.env.POLLARD_E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
  };
}
