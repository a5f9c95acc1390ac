/**
 * The `pollard` CLI end to end: real processes (CLI → job process), real data (the bundled
 * sample), real files. Kept small (a few hundred samples) so the suite stays fast.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'pollard.mjs');
const SAMPLE = path.join(ROOT, 'resources', 'samples', 'fashion-mnist-small');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pollard(
  args: string[],
  options: { onStderr?: (text: string) => void } = {},
): Promise<Run> & { pid: number } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, POLLARD_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    options.onStderr?.(chunk.toString());
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { pid: child.pid! });
}

let tmp: string;
let dataDir: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-cli-'));
  dataDir = path.join(tmp, 'data');
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out');
}

describe('pollard CLI', () => {
  it('info --json prints one JSON object with every backend rung', async () => {
    const run = await pollard(['info', '--json', '--backend', 'wasm']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      backend: string;
      backends: { name: string; status: string }[];
    };
    expect(result.backend).toBe('wasm');
    expect(result.backends.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(result.backends.find((b) => b.name === 'wasm')?.status).toBe('used');
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('fails with one line naming the file when the model does not exist', async () => {
    const missing = path.join(tmp, 'no-such-model');
    const run = await pollard(['inspect', '--model', missing]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^pollard: ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses bad arguments with exit code 2 and names the flag', async () => {
    const run = await pollard(['train', '--data', SAMPLE, '--out', path.join(tmp, 'x')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(
      'pollard: train: --arch is required (or --resume <dir>)',
    );
    const watts = await pollard(['train', '--cpu-watts', '0']);
    expect(watts.code).toBe(2);
    expect(watts.stderr).toContain(
      "error: option '--cpu-watts <W>' argument '0' is invalid. expected a positive number.",
    );
    const energy = await pollard(['compress', '--energy', 'fast']);
    expect(energy.code).toBe(2);
    expect(energy.stderr).toContain(
      "error: option '--energy <mode>' argument 'fast' is invalid. Allowed choices are off, quick, full.",
    );
    const fraction = await pollard(['compress', '--target-macs', '1.5']);
    expect(fraction.code).toBe(2);
    expect(fraction.stderr).toContain(
      "error: option '--target-macs <f>' argument '1.5' is invalid. expected a number between 0 and 1 (exclusive).",
    );
  });

  it('writes no run folder for a missing model, and says so in one line', async () => {
    const missing = path.join(tmp, 'no-such-model.h5');
    const out = path.join(tmp, 'never-created');
    const run = await pollard([
      'compress',
      '--model',
      missing,
      '--data',
      SAMPLE,
      '--method',
      'quantize',
      '--out',
      out,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(`pollard: ${missing}: no such file or folder`);
    await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('points --dtype int8 at uint8, refuses flags the method ignores, and shows defaults in --help', async () => {
    const int8 = await pollard(['compress', '--dtype', 'int8']);
    expect(int8.code).toBe(2);
    expect(int8.stderr).toContain(
      "error: option '--dtype <dtype>' argument 'int8' is invalid. Allowed choices are float16, uint16, uint8. TensorFlow.js stores 8-bit weights as uint8: use --dtype uint8",
    );
    const out = path.join(tmp, 'quantize-with-target');
    const target = await pollard([
      'compress',
      '--model',
      SAMPLE,
      '--data',
      SAMPLE,
      '--method',
      'quantize',
      '--target-macs',
      '0.5',
      '--out',
      out,
    ]);
    expect(target.code).toBe(2);
    expect(target.stderr.trim().split('\n').at(-1)).toBe(
      'pollard: compress --method quantize does not use --target-macs: it applies to --method structured or structured+quantize',
    );
    await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
    const help = await pollard(['compress', '--help']);
    expect(help.code).toBe(0);
    const flat = help.stdout.replace(/\s+/g, ' ');
    for (const shown of [
      '--dtype <dtype> quantization dtype: float16, uint16, uint8 (default: uint8)',
      '--finetune-epochs <n> fine-tuning epochs (default: 2)',
      '--lr <rate> fine-tuning learning rate (default: 0.001)',
      '--seed <n> random seed (default: 42)',
      '--batch-size <n> batch size (default: 64)',
    ])
      expect(flat).toContain(shown);
  });

  it('trains, writes the run folder, and reports the --json contract keys', async () => {
    const out = path.join(tmp, 'train');
    const run = await pollard([
      'train',
      '--data',
      SAMPLE,
      '--arch',
      'lenet',
      '--epochs',
      '1',
      '--limit',
      '600',
      '--backend',
      'wasm',
      '--cpu-watts',
      '20',
      '--threads',
      '1',
      '--out',
      out,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    for (const key of ['backend', 'accuracy', 'params', 'macs', 'sizeBytes', 'runDir', 'samplesPerSecond']) {
      expect(result).toHaveProperty(key);
    }
    expect(result.backend).toBe('wasm');
    expect(result.runDir).toBe(out);
    expect(result.params).toBe(61_706);
    expect(result.accuracy as number).toBeGreaterThan(0.3);
    expect(result.parallelism).toEqual({
      threads: 1,
      replicas: 1,
      sliceSize: 64,
      microBatch: 64,
      kernelThreads: 1,
    });
    const record = await readJson(path.join(out, 'run.json'));
    expect(record.status).toBe('completed');
    expect(record.command).toEqual([
      'pollard',
      'train',
      '--data',
      SAMPLE,
      '--arch',
      'lenet',
      '--epochs',
      '1',
      '--limit',
      '600',
      '--backend',
      'wasm',
      '--cpu-watts',
      '20',
      '--threads',
      '1',
      '--out',
      out,
      '--json',
    ]);
    // The user's CPU power is in the spec, and the CPU model's figures say it was given.
    expect((record.spec as Record<string, unknown>).cpuWatts).toBe(20);
    const trained = await readJson(path.join(out, 'training.json'));
    expect((trained.trainingEnergy as { source: string }).source).toMatch(/^CPU model: 20 W user-given/);
    const events = (await fs.readFile(path.join(out, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; seq: number });
    expect(events[0]?.type).toBe('started');
    expect(events.at(-1)?.type).toBe('result');
    const inspected = await pollard(['inspect', '--model', out, '--json']);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      format: 'tfjs-layers',
      params: 61_706,
      macs: result.macs,
    });

    // Back to Python: Keras 2 .h5, which Pollard reopens with the same parameters and MACs.
    const h5 = path.join(tmp, 'exported', 'lenet.h5');
    const exported = await pollard(['export', '--model', out, '--format', 'keras-h5', '--to', h5, '--json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: 'keras-h5', files: [{ path: h5 }] });
    const reopened = await pollard(['inspect', '--model', h5, '--json']);
    expect(JSON.parse(reopened.stdout)).toMatchObject({
      format: 'keras-h5',
      params: 61_706,
      macs: result.macs,
    });
    // Out to ONNX, checked in ONNX Runtime against TensorFlow.js on every export.
    const onnxFile = path.join(tmp, 'exported', 'lenet.onnx');
    const onnx = await pollard(['export', '--model', out, '--format', 'onnx', '--to', onnxFile, '--json']);
    expect(onnx.code).toBe(0);
    const onnxResult = JSON.parse(onnx.stdout) as { onnx: { verification: { maxAbsDiffLogits: number } } };
    expect(onnxResult).toMatchObject({
      format: 'onnx',
      files: [{ path: onnxFile }],
      onnx: { opset: 13, layout: 'nchw', inputShape: [1, 28, 28] },
    });
    expect(onnxResult.onnx.verification.maxAbsDiffLogits).toBeLessThanOrEqual(1e-4);
    const refused = await pollard([
      'export',
      '--model',
      h5,
      '--format',
      'tfjs',
      '--to',
      path.join(tmp, 'exported'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      `pollard: ${path.join(tmp, 'exported')}: the folder is not empty and holds no model; choose a new or empty folder`,
    );
  }, 240_000);

  it("compress prints the report's energy rows and writes the report beside the run", async () => {
    // The baseline trained by the test above.
    const model = path.join(tmp, 'train');
    const out = path.join(tmp, 'compress-quantize');
    const run = await pollard([
      'compress',
      '--model',
      model,
      '--data',
      SAMPLE,
      '--method',
      'quantize',
      '--finetune-epochs',
      '0',
      '--limit',
      '256',
      '--backend',
      'wasm',
      '--cpu-watts',
      '20',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('Energy-savings report: lenet, quantize');
    const headline = lines.find((line) => line.startsWith('Headline: '));
    expect(headline).toMatch(
      /^Headline: inference energy per 1,000 samples on the machine this run ran on: original \d/,
    );
    expect(lines.some((line) => /^energy +before +after +change$/.test(line))).toBe(true);
    expect(lines.some((line) => /^Inference, modelled op-count +[\d.]+ (µJ|mJ|J) /.test(line))).toBe(true);
    expect((await fs.readdir(path.join(out, 'report'))).sort()).toEqual([
      'report.csv',
      'report.html',
      'report.json',
    ]);
    const report = await readJson(path.join(out, 'report', 'report.json'));
    expect(report.kind).toBe('compression');
  }, 240_000);

  it('resumes a run whose job process was killed mid-epoch and ends as an uninterrupted run', async () => {
    const args = (out: string): string[] => [
      'train',
      '--data',
      SAMPLE,
      '--arch',
      'lenet',
      '--epochs',
      '3',
      '--limit',
      '800',
      '--backend',
      'wasm',
      '--seed',
      '5',
      '--out',
      out,
      '--json',
    ];
    const reference = await pollard(args(path.join(tmp, 'uninterrupted')));
    expect(reference.code).toBe(0);
    const expected = JSON.parse(reference.stdout) as { accuracy: number; loss: number };

    const out = path.join(tmp, 'killed');
    const first = pollard(args(out));
    // Wait until the second epoch is under way, then kill the job process (not the CLI).
    const jobPid = await waitFor(async () => {
      const events = (await fs.readFile(path.join(out, 'events.jsonl'), 'utf8')).trim().split('\n');
      const inSecondEpoch = events.some((line) => {
        const event = JSON.parse(line) as { type: string; epoch?: number; batch?: number };
        return event.type === 'batch' && event.epoch === 2;
      });
      if (!inSecondEpoch) return undefined;
      return ((await readJson(path.join(out, 'run.json'))).pid as number | undefined) ?? undefined;
    }, 90_000);
    process.kill(jobPid, 'SIGKILL');
    const killed = await first;
    expect(killed.code).toBe(1);
    expect(killed.stderr).toContain(
      'pollard: the job process stopped unexpectedly (killed by SIGKILL); it may have run out of memory',
    );
    expect((await readJson(path.join(out, 'run.json'))).status).toBe('failed');

    const resumed = await pollard(['train', '--resume', out, '--json']);
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as { accuracy: number; loss: number; epochs: number };
    const record = await readJson(path.join(out, 'run.json'));
    expect(record.status).toBe('completed');
    expect(record.resumes).toBe(1);
    expect(result.epochs).toBe(3);
    // Same data order, same RNG state: the resumed run ends where the uninterrupted one does.
    expect(Math.abs(result.accuracy - expected.accuracy)).toBeLessThanOrEqual(0.005);
    expect(result.loss).toBeCloseTo(expected.loss, 2);
  });
});
