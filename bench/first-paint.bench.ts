/**
 * First paint from `pollard serve`: the time from starting the server process to the first
 * contentful paint of the UI in Chromium, opened on the URL the server prints. Target: under
 * 2 s. Two ways to start it: the CLI (`node bin/pollard.mjs serve`, TypeScript compiled by tsx
 * at start) and the bundle `npm start` runs without Electron (`node out/app/serve/index.js`).
 *
 *   npm run bench -- first-paint          (RUNS=5 for more repetitions)
 *
 * Chromium is started, and left 1.5 s to settle, before the clock starts (a user's browser is
 * already open). The page's FCP is read as an absolute time (performance.timeOrigin +
 * entry.startTime), on the same machine clock as the server start. The two ways alternate, so
 * both see the same machine load. Needs `npm run build` (renderer and bundles).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, DEFAULT_CHROMIUM_PATH } from '../src/main/engine/report/chromium';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = DEFAULT_CHROMIUM_PATH;
const ARGS = chromiumArgs();
const RUNS = Number(process.env.RUNS ?? 3);
const TARGET_MS = 2000;

function printedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/\S+\/\?token=[0-9a-f]{64}/.exec(output);
      if (match) resolve(match[0]);
    });
    child.once('exit', (code) => reject(new Error(`pollard serve exited (${code}) before printing its URL`)));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

for (const needed of ['out/renderer/index.html', 'out/app/serve/index.js']) {
  if (!existsSync(path.join(root, needed))) {
    console.error(`first-paint: ${needed} is missing; run npm run build first`);
    process.exit(1);
  }
}
if (!existsSync(CHROMIUM)) {
  console.error(
    `first-paint: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set POLLARD_CHROMIUM)`,
  );
  process.exit(1);
}

const VARIANTS: { name: string; args: string[] }[] = [
  { name: 'bundle (npm start)', args: [path.join(root, 'out/app/serve/index.js'), '--port', '0'] },
  { name: 'CLI (pollard serve)', args: [path.join(root, 'bin/pollard.mjs'), 'serve', '--port', '0'] },
];

interface Row {
  variant: string;
  ready: number;
  navigation: number;
  total: number;
}

async function measure(args: string[]): Promise<Omit<Row, 'variant'>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pollard-first-paint-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const page = await browser.newPage();
  // Let the browser finish starting (its helper processes), as a user's browser already has.
  await page.goto('about:blank');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, POLLARD_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const url = await printedUrl(child);
    const ready = Date.now();
    await page.goto(url);
    const paintedAt = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) {
              if (entry.name === 'first-contentful-paint') resolve(performance.timeOrigin + entry.startTime);
            }
          }).observe({ type: 'paint', buffered: true });
        }),
    );
    return { ready: ready - started, navigation: paintedAt - ready, total: paintedAt - started };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
    await browser.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
// Interleaved, so both variants see the same machine load.
for (let run = 0; run < RUNS; run++) {
  for (const variant of VARIANTS) rows.push({ variant: variant.name, ...(await measure(variant.args)) });
}

console.log('| start | server start → URL printed (ms) | URL → first contentful paint (ms) | total (ms) |');
console.log('|---|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.variant} | ${row.ready.toFixed(0)} | ${row.navigation.toFixed(0)} | ${row.total.toFixed(0)} |`,
  );
}
console.log('');
for (const variant of VARIANTS) {
  const mine = rows.filter((row) => row.variant === variant.name);
  const total = median(mine.map((row) => row.total));
  console.log(
    `${variant.name}: median ${total.toFixed(0)} ms to first paint (URL after ${median(mine.map((r) => r.ready)).toFixed(0)} ms; ` +
      `target < ${TARGET_MS} ms: ${total < TARGET_MS ? 'met' : 'NOT met'})`,
  );
}
