/**
 * Finished runs written straight into the server's runs folder, so specs about Recent runs,
 * Results and Export start from a known record without training anything: the report tests'
 * compress fixture (src/main/engine/report/test-fixtures.ts), moved to `<runs>/<name>`, with
 * its comparison as the run's result; and damaged records.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

type Json = Record<string, unknown>;

/** A completed compress run `<runsDir>/<name>`; `patch` may change its result and record before they are written. */
export async function writeCompressRun(
  runsDir: string,
  name: string,
  patch: (result: Json, run: Json) => void = () => undefined,
): Promise<{ dir: string; result: Json; run: Json }> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-e2e-fixture-'));
  const { stdout } = await promisify(execFile)(process.execPath, [
    path.join(import.meta.dirname, 'write-compress-fixture.mjs'),
    scratch,
  ]);
  const { compressDir } = JSON.parse(stdout) as { compressDir: string };
  const dir = path.join(runsDir, name);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.cp(compressDir, dir, { recursive: true });
  const run = JSON.parse(await fs.readFile(path.join(dir, 'run.json'), 'utf8')) as Json;
  const result = JSON.parse(await fs.readFile(path.join(dir, 'compression.json'), 'utf8')) as Json;
  result.runDir = dir;
  result.modelPath = path.join(dir, 'model');
  run.id = name;
  (run.spec as Json).out = dir;
  run.result = result;
  patch(result, run);
  await fs.writeFile(path.join(dir, 'compression.json'), JSON.stringify(result, null, 2));
  await fs.writeFile(path.join(dir, 'run.json'), JSON.stringify(run, null, 2));
  return { dir, result, run };
}

/** A run folder whose run.json is cut off mid-write. */
export async function writeTornRun(runsDir: string, name: string): Promise<string> {
  const dir = path.join(runsDir, name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'run.json'), '{"format": "pollard-run/1", "id": "to');
  return dir;
}
