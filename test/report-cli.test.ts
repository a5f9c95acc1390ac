/**
 * `pollard report` end to end: the CLI forks the job process, which writes the report files;
 * the run folder is read, never turned into a run of its own.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCompressFixture } from '../src/main/engine/report/test-fixtures';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'pollard.mjs');

let tmp: string;
let compressDir: string;

function pollard(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, POLLARD_DATA_DIR: path.join(tmp, 'data-dir'), POLLARD_BACKEND: 'cpu' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-report-cli-'));
  ({ compressDir } = await writeCompressFixture(tmp));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('pollard report', () => {
  it('writes the formats asked for (comma-separated) and prints one JSON object', async () => {
    const runJson = await fs.readFile(path.join(compressDir, 'run.json'), 'utf8');
    const out = path.join(tmp, 'out');
    const run = await pollard(['report', compressDir, '--format', 'json,csv', '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      kind: 'report',
      runDir: compressDir,
      files: { json: path.join(out, 'report.json'), csv: path.join(out, 'report.csv') },
      report: path.join(out, 'report.json'),
      schemaVersion: 1,
      title: 'Energy-savings report: lenet, structured+quantize',
    });
    expect((result.summary as { latency: { factor: number } }).latency.factor).toBe(4);
    expect((await fs.readdir(out)).sort()).toEqual(['report.csv', 'report.json']);
    const csv = await fs.readFile(path.join(out, 'report.csv'), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('metric,unit,before,after,change,change_unit,label,source');
    // The report is not a run: the run folder's record is untouched.
    expect(await fs.readFile(path.join(compressDir, 'run.json'), 'utf8')).toBe(runJson);
  });

  it('prints the energy headline and one row per energy figure the run obtained', async () => {
    const run = await pollard(['report', compressDir, '--format', 'json', '--out', path.join(tmp, 'text')]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').map((line) => line.trimEnd());
    expect(lines.slice(0, 8)).toEqual([
      'Energy-savings report: lenet, structured+quantize',
      'Headline: inference energy per 1,000 samples on the machine this run ran on: original 1.60 J, compressed 400 mJ: 4.00× less energy for the compressed model',
      'energy                                                                      before  after    change',
      'Inference, idle-subtracted                                                  1.60 J  400 mJ   4.00× less',
      'Inference, gross                                                            2.00 J  500 mJ   4.00× less',
      'Inference, idle-subtracted: CPU model: Test CPU 8 W TDP, linear load curve  1.60 J  400 mJ   4.00× less',
      'Training, per epoch                                                         31.0 J  12.5 J   2.48× less',
      'Inference, modelled op-count                                                500 mJ  20.0 mJ  25.00× less',
    ]);
  });

  it('refuses an unknown format and a missing run folder, in one line each', async () => {
    const format = await pollard(['report', compressDir, '--format', 'html,docx']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain(
      `option '--format <formats>' argument 'html,docx' is invalid. expected html, pdf, json, csv (comma-separated), got "html,docx".`,
    );
    const missing = path.join(tmp, 'nothing-here');
    const run = await pollard(['report', missing, '--format', 'html']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(`pollard: ${missing}: not found`);
  });
});
