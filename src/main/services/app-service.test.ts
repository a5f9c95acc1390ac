import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSpec, ReportFormat } from '../../shared/jobs';
import {
  compressResultFixture,
  datasetResultFixture,
  exportModelResultFixture,
  infoResultFixture,
  reportResultFixture,
  trainResultFixture,
} from '../../shared/testing/result-fixtures';
import { AppService, RESUME_SETTLE_MS, runFolderName } from './app-service';
import { nodeWorkerLauncher } from './job-host';
import { type RunRecord } from './runs';
import { SETTINGS_FILE } from './settings-store';
import { completes, fakeLauncher, type FakeScript, runsUntilCancelled } from './testing/fake-launcher';

let dataDir: string;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-app-'));
});
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function serviceWith(script: FakeScript, launched: JobSpec[] = []) {
  const envs: Record<string, string>[] = [];
  const service = await AppService.create({
    dataDir,
    createLauncher: (env) => {
      envs.push(env);
      return fakeLauncher(script, launched);
    },
    now: () => new Date(2025, 0, 31, 9, 5, 7),
  });
  return { service, launched, envs };
}

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

async function writeRun(dir: string, patch: Partial<RunRecord>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const record: RunRecord = {
    format: 'pollard-run/1',
    id: 'r1',
    kind: 'train',
    spec: {
      kind: 'train',
      data: '/d',
      arch: 'lenet',
      out: dir,
      resume: false,
      backend: 'auto',
      seed: 1,
      batchSize: 32,
      verbose: false,
      training: {} as never,
    } as JobSpec,
    status: 'completed',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:10:00.000Z',
    hostPid: deadPid(),
    seed: 1,
    pollardVersion: '0.1.0',
    resumes: 0,
    ...patch,
  };
  await fs.writeFile(path.join(dir, 'run.json'), JSON.stringify(record));
}

describe('AppService settings', () => {
  it('starts from defaults, persists a patch atomically, and reads it back', async () => {
    const { service } = await serviceWith(completes(trainResultFixture()));
    expect(await service.getSettings()).toEqual({
      backend: 'auto',
      threads: null,
      runsDirectory: path.join(dataDir, 'runs'),
      gridCountry: null,
      gridIntensityOverride: null,
      cpuWatts: null,
      energyMode: 'quick',
      pue: 1,
      theme: 'system',
      uploadMaxAgeDays: 30,
      uploadMaxTotalGiB: 20,
    });
    const updated = await service.updateSettings({ pue: 1.4, gridCountry: 'de', runsDirectory: 'elsewhere' });
    expect(updated).toMatchObject({
      pue: 1.4,
      gridCountry: 'DE',
      runsDirectory: path.join(dataDir, 'elsewhere'),
    });
    const onDisk = JSON.parse(await fs.readFile(path.join(dataDir, SETTINGS_FILE), 'utf8'));
    expect(onDisk.pue).toBe(1.4);
    expect((await fs.readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const reopened = await AppService.create({ dataDir });
    expect((await reopened.getSettings()).gridCountry).toBe('DE');
  });

  it('keeps the good fields of a hand-edited settings file and names the bad ones', async () => {
    await fs.writeFile(
      path.join(dataDir, SETTINGS_FILE),
      JSON.stringify({ backend: 'gpu', pue: 1.2, theme: 'dark', colour: 'red' }),
    );
    const service = await AppService.create({ dataDir });
    expect(await service.getSettings()).toMatchObject({ backend: 'auto', pue: 1.2, theme: 'dark' });
    const file = path.join(dataDir, SETTINGS_FILE);
    expect(service.settingsWarnings).toEqual([
      `${file}: backend: Invalid option: expected one of "auto"|"tensorflow"|"webgpu"|"wasm"|"cpu"; using the default`,
      `${file}: unknown setting "colour" ignored`,
    ]);
  });

  it('refuses an invalid patch', async () => {
    const { service } = await serviceWith(completes(trainResultFixture()));
    await expect(service.updateSettings({ pue: 9 })).rejects.toThrow(/pue|5/);
  });
});

describe('AppService jobs', () => {
  it('gives a job from the UI a fresh run folder and the backend from the settings', async () => {
    const { service, launched, envs } = await serviceWith(
      completes(trainResultFixture({ accuracy: 0.8 }), 2),
    );
    await service.updateSettings({ backend: 'wasm', threads: 3, gridCountry: 'FR', pue: 1.1, cpuWatts: 35 });
    const status = await service.startJob({ kind: 'train', data: '/data/fm', arch: 'lenet' });
    const expected = path.join(dataDir, 'runs', status.runDir!.split(path.sep).at(-1)!);
    expect(status.runDir).toBe(expected);
    expect(path.basename(expected)).toMatch(/^train-20250131-090507-[0-9a-f]{4}$/);
    const done = await service.waitForJob(status.jobId);
    expect(done.state).toBe('completed');
    expect(launched[0]).toMatchObject({
      kind: 'train',
      out: expected,
      backend: 'wasm',
      threads: 3,
      cpuWatts: 35,
    });
    expect(envs[0]).toEqual({ POLLARD_PUE: '1.1', POLLARD_GRID_REGION: 'FR' });
    const run = JSON.parse(await fs.readFile(path.join(expected, 'run.json'), 'utf8')) as RunRecord;
    expect(run.status).toBe('completed');
    // Events that arrive while the run folder is being created are recorded too.
    const events = (await fs.readFile(path.join(expected, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(events.map((line) => JSON.parse(line).type)).toEqual(['started', 'epoch', 'epoch', 'result']);
  });

  it('gives a compress job the CPU power and energy mode from Settings unless it chose its own', async () => {
    const { service, launched } = await serviceWith(completes(compressResultFixture(), 1));
    await service.updateSettings({ cpuWatts: 45, energyMode: 'off' });
    const request = { kind: 'compress', model: '/m', data: '/d', method: 'quantize' } as const;
    await service.waitForJob((await service.startJob(request)).jobId);
    expect(launched[0]).toMatchObject({ cpuWatts: 45, energy: { mode: 'off' } });
    await service.waitForJob(
      (await service.startJob({ ...request, cpuWatts: 12, energy: { mode: 'full' } })).jobId,
    );
    expect(launched[1]).toMatchObject({ cpuWatts: 12, energy: { mode: 'full' } });
  });

  it('refuses relative paths and a second job in a folder that is busy', async () => {
    const { service } = await serviceWith(runsUntilCancelled());
    await expect(service.startJob({ kind: 'train', data: 'data/fm', arch: 'lenet' })).rejects.toThrow(
      'startJob: data: must be an absolute path (got "data/fm")',
    );
    const out = path.join(dataDir, 'runs', 'one');
    const first = await service.startJob({ kind: 'train', data: '/d', arch: 'lenet', out });
    await expect(service.startJob({ kind: 'train', data: '/d', arch: 'lenet', out })).rejects.toThrow(
      `${out}: job ${first.jobId} is already running in this folder`,
    );
    await service.shutdown();
    expect((await service.waitForJob(first.jobId)).state).toBe('cancelled');
  });

  it('marks a run failed with the reason when its job process dies, and keeps its files', async () => {
    const script = path.join(dataDir, 'dies.mjs');
    await fs.writeFile(
      script,
      `process.on('message', (m) => {
        if (m.type !== 'start') return;
        process.send({ type: 'started', kind: m.spec.kind, backend: { used: 'cpu', device: 'x', rungs: [] },
          pid: process.pid, versions: {}, runDir: m.spec.out, seq: 0, time: Date.now() }, () => process.exit(7));
      });`,
    );
    const service = await AppService.create({
      dataDir,
      createLauncher: () => nodeWorkerLauncher({ entry: script }),
    });
    const out = path.join(dataDir, 'runs', 'crashing');
    const status = await service.startJob({ kind: 'train', data: '/d', arch: 'lenet', out });
    const done = await service.waitForJob(status.jobId);
    expect(done.state).toBe('failed');
    expect(done.error).toEqual({
      code: 'crash',
      message: 'the job process stopped unexpectedly (exit code 7)',
    });
    const run = JSON.parse(await fs.readFile(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    expect(run.status).toBe('failed');
    expect(run.error?.message).toBe('the job process stopped unexpectedly (exit code 7)');
    const events = (await fs.readFile(path.join(out, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(events.map((line) => JSON.parse(line).type)).toEqual(['started', 'error']);
    const summary = (await service.listRuns()).find((r) => r.dir === out);
    expect(summary).toMatchObject({ status: 'failed', resumable: true, interrupted: false });
  });

  it('runs describeDataset at once on the cpu backend with previews, beside a running queue', async () => {
    const launched: JobSpec[] = [];
    const { service } = await serviceWith(async (job) => {
      if (job.spec.kind === 'train') return runsUntilCancelled()(job);
      return completes(datasetResultFixture())(job);
    }, launched);
    const training = await service.startJob({ kind: 'train', data: '/d', arch: 'lenet' });
    const preview = await service.describeDataset('/data/fm');
    const { info, previews } = datasetResultFixture();
    expect(preview).toEqual({ info, previews });
    expect(launched[1]).toMatchObject({ kind: 'dataset', data: '/data/fm', previews: 4, backend: 'cpu' });
    expect((await service.listJobs()).map((j) => j.state)).toEqual(['running']);
    await service.cancelJob(training.jobId);
    await service.waitForJob(training.jobId);
  });

  it('turns a failed look-up into the job error', async () => {
    const { service } = await serviceWith((job) => {
      job.emit({
        type: 'error',
        error: { code: 'bad-input', message: '/m/model.json: not JSON', file: '/m/model.json' },
      });
      job.exit(1);
    });
    await expect(service.inspectModel('/m')).rejects.toMatchObject({
      code: 'bad-input',
      message: '/m/model.json: not JSON',
    });
  });

  it('caches the system info and refreshes it when the backend setting changes', async () => {
    const launched: JobSpec[] = [];
    const { service } = await serviceWith(
      completes(
        infoResultFixture({
          energySources: [
            {
              id: 'rapl',
              name: 'Linux RAPL',
              kind: 'measured',
              label: 'unavailable',
              status: 'unavailable',
              reason: 'no powercap',
            },
          ],
        }),
      ),
      launched,
    );
    const info = await service.getSystemInfo();
    await service.getSystemInfo();
    expect(launched).toHaveLength(1);
    expect(info.backends).toEqual([{ name: 'cpu', status: 'used' }]);
    expect(info.energySources).toEqual([
      { id: 'rapl', label: 'Linux RAPL', status: 'unavailable', reason: 'no powercap' },
    ]);
    expect(info.system).toMatchObject({ cpu: 'Test CPU', cores: 2, dataDirectory: dataDir });
    expect(String(info.system.samplePath)).toMatch(/resources[/\\]samples[/\\]fashion-mnist-small$/);
    await service.updateSettings({ backend: 'cpu' });
    await service.getSystemInfo();
    expect(launched.map((s) => s.backend)).toEqual(['auto', 'cpu']);
  });
});

describe('AppService runs', () => {
  it('lists runs with headline numbers and offers interrupted ones for resume', async () => {
    const { service, launched } = await serviceWith(runsUntilCancelled());
    const runs = path.join(dataDir, 'runs');
    await writeRun(path.join(runs, 'done'), {
      kind: 'compress',
      createdAt: '2025-01-02T00:00:00.000Z',
      result: {
        before: { accuracy: 0.9, macs: 1000, sizeBytes: 400 },
        after: { accuracy: 0.88, macs: 250, sizeBytes: 100 },
      },
      backend: { used: 'wasm', device: 'w', rungs: [] },
    });
    await writeRun(path.join(runs, 'cut'), { status: 'running', pid: deadPid() });
    await fs.mkdir(path.join(runs, 'not-a-run'));
    const list = await service.listRuns();
    expect(list.map((r) => [path.basename(r.dir), r.status, r.interrupted, r.resumable])).toEqual([
      ['done', 'completed', false, false],
      ['cut', 'running', true, true],
    ]);
    expect(list[0]!.headline).toEqual({
      backend: 'wasm',
      accuracy: 0.88,
      accuracyBefore: 0.9,
      macsRatio: 0.25,
      sizeRatio: 0.25,
    });
    const resumed = await service.resumeRun(path.join(runs, 'cut'));
    expect(resumed.runDir).toBe(path.join(runs, 'cut'));
    await expect.poll(() => launched.length).toBe(1);
    expect(launched[0]).toMatchObject({ kind: 'train', resume: true, out: path.join(runs, 'cut') });
    await expect(service.resumeRun(path.join(runs, 'done'))).rejects.toThrow(
      `${path.join(runs, 'done')}: this run has completed; there is nothing to resume`,
    );
    await service.shutdown();
  });

  it('Resume right after Cancel waits for the run’s process to exit; a run still running is refused', async () => {
    const { service, launched } = await serviceWith(runsUntilCancelled());
    const runs = path.join(dataDir, 'runs');
    // The job process of a run just cancelled: still alive for 400 ms.
    const exiting = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 400)'], { stdio: 'ignore' });
    await writeRun(path.join(runs, 'exiting'), { status: 'running', pid: exiting.pid, hostPid: deadPid() });
    const started = Date.now();
    const resumed = await service.resumeRun(path.join(runs, 'exiting'));
    expect(resumed.runDir).toBe(path.join(runs, 'exiting'));
    expect(Date.now() - started).toBeLessThan(RESUME_SETTLE_MS);
    await expect.poll(() => launched.length).toBe(1);
    // This process stays alive: after the wait the run is still running.
    await writeRun(path.join(runs, 'live'), { status: 'running', pid: process.pid });
    await expect(service.resumeRun(path.join(runs, 'live'))).rejects.toThrow(
      `${path.join(runs, 'live')}: this run is still running (process ${process.pid})`,
    );
    await service.shutdown();
  });

  it('reads a run: record, per-epoch history (a resume overrides repeated epochs), and files', async () => {
    const { service } = await serviceWith(completes(trainResultFixture()));
    const dir = path.join(dataDir, 'runs', 'r');
    await writeRun(dir, {});
    const epoch = (n: number, loss: number) => ({
      type: 'epoch',
      epoch: n,
      epochs: 3,
      loss,
      accuracy: 0.5,
      learningRate: 0.1,
      seconds: 1,
      samplesPerSecond: 9,
      seq: n,
      time: n,
    });
    const lines = [
      { type: 'started', seq: 0, time: 0 },
      epoch(1, 0.9),
      epoch(2, 0.8),
      { type: 'batch', epoch: 3, seq: 5, time: 5 },
      { type: 'started', seq: 0, time: 10 },
      epoch(2, 0.7),
      epoch(3, 0.6),
    ];
    await fs.writeFile(
      path.join(dir, 'events.jsonl'),
      lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"type":"ep',
    );
    await fs.mkdir(path.join(dir, 'model'));
    await fs.writeFile(path.join(dir, 'model', 'model.json'), '{}');
    const details = await service.getRun(dir);
    expect(details.history.map((h) => [h.epoch, h.loss])).toEqual([
      [1, 0.9],
      [2, 0.7],
      [3, 0.6],
    ]);
    expect(details.history[0]).toEqual({
      epoch: 1,
      epochs: 3,
      loss: 0.9,
      accuracy: 0.5,
      learningRate: 0.1,
      seconds: 1,
      samplesPerSecond: 9,
      time: 1,
    });
    expect(details.files.map((f) => f.path)).toEqual(['events.jsonl', 'model/model.json', 'run.json']);
    expect(details.files[1]!.bytes).toBe(2);
    expect(details.summary.id).toBe('r1');
    await expect(service.getRun(path.join(dataDir, 'nothing'))).rejects.toThrow(
      `${path.join(dataDir, 'nothing', 'run.json')}: not found: this folder is not a Pollard run`,
    );
  });

  it('exports the tfjs model, the reports from the report job, and says what could not be written', async () => {
    const launched: JobSpec[] = [];
    const { service } = await serviceWith(async (job) => {
      if (job.spec.kind === 'export-model') {
        await fs.writeFile(job.spec.to, 'h5');
        completes(exportModelResultFixture([{ path: job.spec.to, bytes: 2 }], 'keras-h5'))(job);
        return;
      }
      const spec = job.spec as Extract<JobSpec, { kind: 'report' }>;
      if (spec.formats.includes('pdf')) {
        job.emit({
          type: 'error',
          error: { code: 'io', message: 'report: no Chromium found to print the PDF' },
        });
        job.exit(1);
        return;
      }
      const files: Partial<Record<ReportFormat, string>> = {};
      for (const format of spec.formats) {
        files[format] = path.join(spec.out!, `report.${format}`);
        await fs.writeFile(files[format]!, `${format} report`);
      }
      completes(reportResultFixture(spec.run, files))(job);
    }, launched);
    const dir = path.join(dataDir, 'runs', 'r');
    await writeRun(dir, { result: { accuracy: 0.91 } });
    await fs.mkdir(path.join(dir, 'model'));
    await fs.writeFile(path.join(dir, 'model', 'model.json'), '{"format":"layers-model"}');
    await fs.writeFile(path.join(dir, 'model', 'group1-shard1of1.bin'), Buffer.alloc(12));
    const target = path.join(dataDir, 'exported');
    const result = await service.exportRun({
      runDir: dir,
      targetDir: target,
      modelFormats: ['tfjs', 'keras-h5'],
      reportFormats: ['json', 'pdf', 'html'],
    });
    expect(result.files.map((f) => [path.relative(target, f.path), f.bytes])).toEqual([
      [path.join('model', 'group1-shard1of1.bin'), 12],
      [path.join('model', 'model.json'), 25],
      ['model.h5', 2],
      ['report.json', 11],
      ['report.html', 11],
    ]);
    expect(result.skipped).toEqual([{ format: 'pdf', reason: 'report: no Chromium found to print the PDF' }]);
    expect(
      launched.map((s) =>
        s.kind === 'report'
          ? [s.run, s.formats, s.out]
          : s.kind === 'export-model'
            ? [s.model, s.format, s.to]
            : s.kind,
      ),
    ).toEqual([
      [path.join(dir, 'model'), 'keras-h5', path.join(target, 'model.h5')],
      [dir, ['json', 'html'], target],
      [dir, ['pdf'], target],
    ]);
    await expect(
      service.exportRun({
        runDir: dir,
        targetDir: path.join(dir, 'model', 'x'),
        modelFormats: ['tfjs'],
        reportFormats: [],
      }),
    ).rejects.toThrow("choose a folder outside the run's model folder");
  });

  it('exports ONNX float32 and int8 through the engine, int8 calibrated on the run dataset', async () => {
    const launched: JobSpec[] = [];
    const { service } = await serviceWith(async (job) => {
      const spec = job.spec as Extract<JobSpec, { kind: 'export-model' }>;
      await fs.writeFile(spec.to, 'onnx');
      completes(exportModelResultFixture([{ path: spec.to, bytes: 4 }], 'onnx'))(job);
    }, launched);
    const dir = path.join(dataDir, 'runs', 'onnx');
    await writeRun(dir, { result: { accuracy: 0.91 } });
    const target = path.join(dataDir, 'exported-onnx');
    const result = await service.exportRun({
      runDir: dir,
      targetDir: target,
      modelFormats: ['onnx', 'onnx-int8'],
      reportFormats: [],
    });
    expect(result.files.map((f) => path.relative(target, f.path))).toEqual(['model.onnx', 'model-int8.onnx']);
    expect(result.skipped).toEqual([]);
    expect(
      launched.map((s) => {
        const e = s as Extract<JobSpec, { kind: 'export-model' }>;
        return [e.format, e.quantize, e.data, e.to];
      }),
    ).toEqual([
      ['onnx', undefined, undefined, path.join(target, 'model.onnx')],
      ['onnx', 'int8', '/d', path.join(target, 'model-int8.onnx')],
    ]);
  });

  it('leaves a report job its own output folder (it writes into its run)', async () => {
    const launched: JobSpec[] = [];
    const { service } = await serviceWith(completes(trainResultFixture()), launched);
    const status = await service.startJob({ kind: 'report', run: '/runs/r', formats: ['html'] });
    await service.waitForJob(status.jobId);
    expect(launched[0]).toMatchObject({ kind: 'report', run: '/runs/r' });
    expect(launched[0]).not.toHaveProperty('out');
  });
});

describe('runFolderName', () => {
  it('is kind, local date and time, and 4 hex', () => {
    expect(runFolderName('compress', new Date(2024, 11, 3, 23, 59, 1), 'beef')).toBe(
      'compress-20241203-235901-beef',
    );
  });
});
