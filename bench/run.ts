/**
 * `npm run bench`: every benchmark in this folder, one after another (never in parallel, so they
 * do not disturb each other), each printing its own table. Numbers are compared as ratios
 * measured within the same run, because these machines are shared and noisy.
 *
 *   npm run bench                 all of them
 *   npm run bench -- architectures energy-overhead   only those
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .map((name) => name.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n## ${name}\n`);
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.bench.ts`)], {
    stdio: 'inherit',
  });
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
