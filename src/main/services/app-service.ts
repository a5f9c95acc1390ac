/**
 * The main side of PollardApi, under plain Node: `pollard serve` and the Electron main process
 * both wrap one AppService. Engine work always runs in a job process started by the injected
 * WorkerLauncher (child_process.fork here, Electron's utilityProcess in the app).
 *
 * Queued jobs (train, compress, sensitivity, …) run one at a time; quick look-ups that the
 * wizard waits on (dataset description, model summary, pruning plan, system info) run at once
 * in their own job process, beside the queue.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type {
  DatasetPreview,
  ExportRequest,
  ExportResult,
  JobMessage,
  JobRequest,
  JobStatus,
  RunDetails,
  RunSummary,
  Settings,
  SettingsPatch,
  SystemInfo,
} from '../../shared/api';
import { PollardError, usageError } from '../../shared/errors';
import { type InfoResult, type PlanResult, type ResultOf, resultOfKind } from '../../shared/job-results';
import {
  type JobEvent,
  type JobKind,
  type JobSpec,
  type JobSpecInput,
  jobSpecSchema,
  type SpecOf,
} from '../../shared/jobs';
import type { ModelSummary } from '../../shared/types';
import { dataDirectory, SAMPLE_DATASET } from '../util/paths';
import { POLLARD_VERSION } from '../util/version';
import { type ApiHandlers, jobRequestSchema } from './api-methods';
import { exportModelFiles, reportFilesWritten } from './export-run';
import { nodeWorkerLauncher, type WorkerLauncher } from './job-host';
import { JobQueue } from './job-queue';
import { resumeSpec, runJob } from './jobs';
import { resolveLocalPaths } from './local-paths';
import { listRunSummaries, readRunDetails, readRunEvents } from './run-details';
import { isInterrupted, readRun } from './runs';
import { SettingsStore } from './settings-store';

/** Starts job processes; `env` holds the settings a job reads from its environment. */
export type LauncherFactory = (env: Record<string, string>) => WorkerLauncher;

export interface AppServiceOptions {
  /** Default: POLLARD_DATA_DIR or the platform's data folder. */
  dataDir?: string;
  /** Default: child_process.fork of the job process from the TypeScript sources. */
  createLauncher?: LauncherFactory;
  /** Milliseconds between a soft cancel and the kill. */
  graceMs?: number;
  /** Batch/progress/log events kept per unfinished job for reconnecting windows. */
  replayLimit?: number;
  /** Sample images per class returned by describeDataset. */
  previewsPerClass?: number;
  now?: () => Date;
}

function defaultLauncherFactory(env: Record<string, string>): WorkerLauncher {
  return nodeWorkerLauncher({ env: { ...process.env, ...env } });
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `<kind>-<YYYYMMDD-HHMMSS>-<4 hex>`, local time: sorts by time and reads well in a file manager. */
export function runFolderName(kind: string, date: Date, suffix = randomBytes(2).toString('hex')): string {
  const day = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  return `${kind}-${day}-${time}-${suffix}`;
}

const PATH_FIELDS = ['data', 'model', 'out'] as const;

/** How long Resume waits for a run's process to finish exiting before calling the run still running. */
export const RESUME_SETTLE_MS = 3000;

export class AppService {
  readonly dataDir: string;
  private readonly settingsStore: SettingsStore;
  private readonly createLauncher: LauncherFactory;
  private readonly graceMs: number;
  private readonly previewsPerClass: number;
  private readonly now: () => Date;
  private readonly queue: JobQueue;
  private readonly immediate = new Set<AbortController>();
  private systemInfo: Promise<SystemInfo> | undefined;

  private constructor(settingsStore: SettingsStore, options: AppServiceOptions) {
    this.settingsStore = settingsStore;
    this.dataDir = settingsStore.dataDir;
    this.createLauncher = options.createLauncher ?? defaultLauncherFactory;
    this.graceMs = options.graceMs ?? 10_000;
    this.previewsPerClass = options.previewsPerClass ?? 4;
    this.now = options.now ?? (() => new Date());
    this.queue = new JobQueue({
      runner: (spec, hooks) =>
        runJob(spec, {
          ...hooks,
          launcher: this.launcher(),
          graceMs: this.graceMs,
          command: ['pollard-app'],
        }),
      ...(options.replayLimit !== undefined ? { replayLimit: options.replayLimit } : {}),
    });
  }

  static async create(options: AppServiceOptions = {}): Promise<AppService> {
    const dataDir = path.resolve(options.dataDir ?? dataDirectory());
    return new AppService(await SettingsStore.open(dataDir), options);
  }

  /** Problems found in the settings file at start (each one line, naming the file). */
  get settingsWarnings(): readonly string[] {
    return this.settingsStore.warnings;
  }

  // ---- settings and system ---------------------------------------------------------------

  async getSettings(): Promise<Settings> {
    return this.settingsStore.get();
  }

  async updateSettings(patch: SettingsPatch): Promise<Settings> {
    const before = this.settingsStore.get();
    const after = await this.settingsStore.update(patch);
    if (after.backend !== before.backend) this.systemInfo = undefined;
    return after;
  }

  /** The `info` job's report (backends, energy sources, versions), run once and cached. */
  getSystemInfo(): Promise<SystemInfo> {
    if (!this.systemInfo) {
      const pending = this.runNow({ kind: 'info', backend: this.settingsStore.get().backend }).then(
        (result) => this.toSystemInfo(result),
      );
      pending.catch(() => {
        if (this.systemInfo === pending) this.systemInfo = undefined;
      });
      this.systemInfo = pending;
    }
    return this.systemInfo;
  }

  // ---- look-ups the wizard waits on (run at once, not queued) ------------------------------

  async describeDataset(dataPath: string): Promise<DatasetPreview> {
    const result = await this.runNow({
      kind: 'dataset',
      data: dataPath,
      previews: this.previewsPerClass,
      backend: 'cpu',
    });
    return { info: result.info, previews: result.previews };
  }

  async inspectModel(modelPath: string): Promise<ModelSummary> {
    const {
      kind: _kind,
      backend: _backend,
      runDir: _runDir,
      ...summary
    } = await this.runNow({
      kind: 'inspect',
      model: modelPath,
      backend: 'cpu',
    });
    return summary;
  }

  async planCompression(spec: SpecOf<'plan'> | Extract<JobSpecInput, { kind: 'plan' }>): Promise<PlanResult> {
    return this.runNow(spec);
  }

  // ---- the queue ---------------------------------------------------------------------------

  async startJob(request: JobRequest): Promise<JobStatus> {
    const spec = await this.prepareSpec(request);
    return this.enqueue(spec);
  }

  async cancelJob(jobId: string): Promise<void> {
    this.queue.cancel(jobId);
  }

  async listJobs(): Promise<JobStatus[]> {
    return this.queue.list();
  }

  /** Every job event of this session, live. */
  subscribe(listener: (message: JobMessage) => void): () => void {
    return this.queue.subscribe(listener);
  }

  /** The buffered events of jobs still queued or running (for a window that reconnects). */
  replay(): JobMessage[] {
    return this.queue.replay();
  }

  /** Resolves when a queued job has finished. */
  waitForJob(jobId: string): Promise<JobStatus> {
    return this.queue.waitFor(jobId);
  }

  // ---- runs --------------------------------------------------------------------------------

  async listRuns(): Promise<RunSummary[]> {
    return listRunSummaries(this.settingsStore.get().runsDirectory);
  }

  async getRun(runDir: string): Promise<RunDetails> {
    return readRunDetails(path.resolve(runDir));
  }

  async getRunEvents(runDir: string): Promise<JobEvent[]> {
    const dir = path.resolve(runDir);
    await readRun(dir); // only a run folder's events
    return readRunEvents(dir);
  }

  async resumeRun(runDir: string): Promise<JobStatus> {
    const dir = path.resolve(runDir);
    let run = await readRun(dir);
    // A job just cancelled sends its last event a moment before its process marks the run and
    // exits (Resume is offered at that event): give it that moment before calling it running.
    const settleBy = Date.now() + RESUME_SETTLE_MS;
    while (run.status === 'running' && !isInterrupted(run) && Date.now() < settleBy) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = await readRun(dir);
    }
    if (run.status === 'completed')
      throw usageError(`${dir}: this run has completed; there is nothing to resume`);
    if (run.status === 'running' && !isInterrupted(run)) {
      throw usageError(`${dir}: this run is still running (process ${run.pid ?? run.hostPid})`);
    }
    return this.enqueue(await resumeSpec(dir));
  }

  async exportRun(request: ExportRequest): Promise<ExportResult> {
    const exported = await exportModelFiles(request);
    const model = path.join(path.resolve(request.runDir), 'model');
    const target = path.resolve(request.targetDir);
    // Engine conversions, one job each; a format that fails is reported, the others still run.
    const conversions: {
      format: string;
      spec: () => Promise<Extract<JobSpecInput, { kind: 'export-model' }>>;
    }[] = [];
    if (request.modelFormats.includes('keras-h5')) {
      conversions.push({
        format: 'keras-h5',
        spec: async () => ({
          kind: 'export-model',
          model,
          format: 'keras-h5',
          to: path.join(target, 'model.h5'),
          backend: 'cpu',
        }),
      });
    }
    if (request.modelFormats.includes('onnx')) {
      conversions.push({
        format: 'onnx',
        spec: async () => ({
          kind: 'export-model',
          model,
          format: 'onnx',
          to: path.join(target, 'model.onnx'),
          backend: 'cpu',
        }),
      });
    }
    if (request.modelFormats.includes('onnx-int8')) {
      conversions.push({
        format: 'onnx-int8',
        spec: async () => {
          // Calibration needs the run's dataset: the one it was trained or compressed on.
          const run = await readRun(path.resolve(request.runDir));
          const data = (run.spec as { data?: unknown }).data;
          if (typeof data !== 'string') {
            throw usageError(`${request.runDir}: this ${run.kind} run names no dataset to calibrate int8 on`);
          }
          return {
            kind: 'export-model',
            model,
            format: 'onnx',
            quantize: 'int8',
            data,
            to: path.join(target, 'model-int8.onnx'),
            backend: 'cpu',
          };
        },
      });
    }
    for (const conversion of conversions) {
      try {
        const result = await this.runNow(await conversion.spec());
        exported.files.push(...result.files);
      } catch (error) {
        exported.skipped.push({
          format: conversion.format,
          reason: error instanceof Error ? error.message.split('\n')[0]! : String(error),
        });
      }
    }
    // Reports come from the engine's report job; the PDF goes last and alone, so a machine
    // without Chromium still gets the other formats.
    const formats = [...new Set(request.reportFormats)];
    const batches = [formats.filter((f) => f !== 'pdf'), formats.filter((f) => f === 'pdf')];
    for (const batch of batches) {
      if (batch.length === 0) continue;
      try {
        const result = await this.runNow({
          kind: 'report',
          run: path.resolve(request.runDir),
          formats: batch,
          out: path.resolve(request.targetDir),
          backend: 'cpu',
        });
        exported.files.push(...(await reportFilesWritten(result)));
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        for (const format of batch) exported.skipped.push({ format, reason });
      }
    }
    return exported;
  }

  /** Electron's resolveFiles: re-check the paths the preload read. */
  resolveLocalPaths(paths: readonly string[]): Promise<string> {
    return resolveLocalPaths(paths);
  }

  /** Cancel every job (queued at once, running soft then hard) and wait for them to stop. */
  async shutdown(): Promise<void> {
    for (const controller of this.immediate) controller.abort();
    await this.queue.shutdown();
  }

  // ---- internals ---------------------------------------------------------------------------

  private launcher(): WorkerLauncher {
    const settings = this.settingsStore.get();
    const env: Record<string, string> = { POLLARD_PUE: String(settings.pue) };
    if (settings.gridCountry !== null) env.POLLARD_GRID_REGION = settings.gridCountry;
    if (settings.gridIntensityOverride !== null)
      env.POLLARD_GRID_INTENSITY = String(settings.gridIntensityOverride);
    return this.createLauncher(env);
  }

  private enqueue(spec: JobSpec): JobStatus {
    const out = 'out' in spec ? spec.out : undefined;
    if (out !== undefined) {
      const busy = this.queue
        .list()
        .find((job) => (job.state === 'queued' || job.state === 'running') && job.runDir === out);
      if (busy) throw usageError(`${out}: job ${busy.jobId} is already ${busy.state} in this folder`);
    }
    return this.queue.enqueue(spec);
  }

  /** Assign a run folder when the UI left `out` out, apply the backend setting, validate. */
  private async prepareSpec(request: JobRequest): Promise<JobSpec> {
    const parsed = jobRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw usageError(`startJob: ${issue?.path.join('.') || 'spec'}: ${issue?.message ?? 'invalid'}`);
    }
    const input: Record<string, unknown> = { ...parsed.data };
    const settings = this.settingsStore.get();
    const option = jobSpecSchema.options.find((o) => o.shape.kind.value === input.kind);
    // Only where the kind needs a folder of its own (a report's `out` defaults to its run's).
    const needsOut =
      option !== undefined && 'out' in option.shape && !option.shape.out.safeParse(undefined).success;
    if (needsOut && input.out === undefined) {
      input.out = path.join(settings.runsDirectory, runFolderName(String(input.kind), this.now()));
    }
    if (input.backend === 'auto') input.backend = settings.backend;
    if (input.threads === undefined && settings.threads !== null) input.threads = settings.threads;
    // The CPU power from Settings goes into the spec, so the run records it (reported as user-given).
    if (input.cpuWatts === undefined && settings.cpuWatts !== null) input.cpuWatts = settings.cpuWatts;
    // A compress job's energy measurement follows Settings unless the request chose one.
    if (input.kind === 'compress') {
      const energy = (input.energy ?? {}) as Record<string, unknown>;
      if (energy.mode === undefined) input.energy = { ...energy, mode: settings.energyMode };
    }
    for (const field of PATH_FIELDS) {
      const value = input[field];
      if (typeof value === 'string' && !path.isAbsolute(value)) {
        throw usageError(`startJob: ${field}: must be an absolute path (got "${value}")`);
      }
    }
    return jobSpecSchema.parse(input);
  }

  /** Run one job at once in its own process; its result, or its error as a PollardError. */
  private async runNow<K extends JobKind>(input: Extract<JobSpecInput, { kind: K }>): Promise<ResultOf<K>> {
    const spec = jobSpecSchema.parse(input);
    const controller = new AbortController();
    this.immediate.add(controller);
    try {
      const { outcome } = await runJob(spec, {
        launcher: this.launcher(),
        signal: controller.signal,
        graceMs: this.graceMs,
      });
      if (outcome.status === 'completed') {
        const result = resultOfKind(spec.kind as K, outcome.result);
        if (result) return result;
        throw new PollardError('internal', `${spec.kind}: the job returned a ${outcome.result.kind} result`);
      }
      if (outcome.status === 'failed') throw PollardError.from(outcome.error);
      throw new PollardError('cancelled', `${spec.kind}: cancelled`);
    } finally {
      this.immediate.delete(controller);
    }
  }

  private toSystemInfo(result: InfoResult): SystemInfo {
    const settings = this.settingsStore.get();
    return {
      pollardVersion: POLLARD_VERSION,
      versions: result.versions,
      backends: result.backends,
      // The engine names a source `name` and keeps `label` for its energy label; the UI shows the name.
      energySources: result.energySources.map(({ id, name, status, detail, reason }) => ({
        id,
        label: name,
        status,
        ...(detail !== undefined ? { detail } : {}),
        ...(reason !== undefined ? { reason } : {}),
      })),
      system: {
        ...result.system,
        samplePath: SAMPLE_DATASET,
        dataDirectory: this.dataDir,
        runsDirectory: settings.runsDirectory,
      },
    };
  }
}

/** The PollardApi methods an AppService answers; each host adds its own pickPath, openFolder and file hand-off. */
export function serviceHandlers(service: AppService): ApiHandlers {
  return {
    getSystemInfo: () => service.getSystemInfo(),
    getSettings: () => service.getSettings(),
    updateSettings: (patch) => service.updateSettings(patch),
    describeDataset: (dataPath) => service.describeDataset(dataPath),
    inspectModel: (modelPath) => service.inspectModel(modelPath),
    planCompression: (spec) => service.planCompression(spec),
    startJob: (spec) => service.startJob(spec as JobRequest),
    cancelJob: (jobId) => service.cancelJob(jobId),
    listJobs: () => service.listJobs(),
    listRuns: () => service.listRuns(),
    getRun: (runDir) => service.getRun(runDir),
    getRunEvents: (runDir) => service.getRunEvents(runDir),
    resumeRun: (runDir) => service.resumeRun(runDir),
    exportRun: (request) => service.exportRun(request),
  };
}
