/**
 * PollardApi: the one typed interface the renderer calls. Two bridges implement it with the
 * same behaviour: Electron (preload + ipcRenderer.invoke, one method per channel) and the
 * browser (HTTP + WebSocket to `pollard serve`). Errors cross as SerializedError data and are
 * rethrown as PollardError by the bridge.
 *
 * Argument schemas (zod) live beside the types so every host validates what it receives.
 */
import { z } from 'zod';
import { PollardError, type SerializedError } from './errors';
import type { JobResult, PlanResult } from './job-results';
import type { JobEvent, JobKind, JobSpec, JobSpecInput } from './jobs';
import type { BackendRung, DatasetInfo, ModelSummary } from './types';

// ---- data shapes ------------------------------------------------------------------------------

export interface SamplePreview {
  label: number;
  width: number;
  height: number;
  channels: number;
  /** PNG, base64 (no data: prefix). */
  pngBase64: string;
}

export interface DatasetPreview {
  info: DatasetInfo;
  previews: SamplePreview[];
}

export interface EnergySourceStatus {
  id: string;
  label: string;
  status: 'working' | 'unavailable';
  detail?: string;
  reason?: string;
}

export interface SystemInfo {
  pollardVersion: string;
  versions: Record<string, string>;
  backends: BackendRung[];
  energySources: EnergySourceStatus[];
  system: Record<string, string | number>;
}

export type Theme = 'system' | 'light' | 'dark';

export interface Settings {
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** CPU threads for training and evaluation on wasm and cpu; null: every core. */
  threads: number | null;
  /** Where runs are written. */
  runsDirectory: string;
  /** ISO 3166 alpha-2/alpha-3 country code for the grid-intensity table; null: no carbon figures unless an intensity override is set. */
  gridCountry: string | null;
  /** gCO2e/kWh; overrides the table when set. */
  gridIntensityOverride: number | null;
  /** This machine's CPU power at full load (W) for the CPU energy model; null: the TDP table's guess. */
  cpuWatts: number | null;
  /** Energy measurement of compress jobs: off, quick (no extra training passes) or full. */
  energyMode: 'off' | 'quick' | 'full';
  pue: number;
  theme: Theme;
  /** `pollard serve` uploads: remove batches older than this many days (null: keep). Never one a kept run uses. */
  uploadMaxAgeDays: number | null;
  /** `pollard serve` uploads: remove the oldest batches while the folder holds more than this (GiB; null: no limit). */
  uploadMaxTotalGiB: number | null;
}

export const settingsPatchSchema = z
  .object({
    backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']),
    threads: z.number().int().min(1).max(1024).nullable(),
    runsDirectory: z.string().min(1).max(4096),
    gridCountry: z.string().min(2).max(3).nullable(),
    gridIntensityOverride: z.number().min(0).max(5000).nullable(),
    cpuWatts: z.number().gt(0).max(100_000).nullable(),
    energyMode: z.enum(['off', 'quick', 'full']),
    pue: z.number().min(1).max(5),
    theme: z.enum(['system', 'light', 'dark']),
    uploadMaxAgeDays: z.number().gt(0).max(36_500).nullable(),
    uploadMaxTotalGiB: z.number().gt(0).max(1_000_000).nullable(),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobStatus {
  jobId: string;
  kind: JobKind;
  state: JobState;
  runDir?: string;
  spec: JobSpec;
  result?: JobResult;
  error?: SerializedError;
  /** Position in the queue (0 = next), while queued. */
  queuePosition?: number;
}

/** A job event as it reaches the renderer: which job it belongs to. */
export interface JobMessage {
  jobId: string;
  event: JobEvent;
}

export interface RunSummary {
  dir: string;
  id: string;
  /** 'unknown' only for a damaged run whose record does not say. */
  kind: JobKind | 'unknown';
  /** 'damaged': run.json could not be read (see `damaged`). */
  status: 'running' | 'completed' | 'failed' | 'cancelled' | 'damaged';
  /** Why the run's record could not be read (one line naming the file and the field); absent when it could. */
  damaged?: string;
  /** Marked running but its processes are gone: offer to resume. */
  interrupted: boolean;
  resumable: boolean;
  createdAt: string;
  updatedAt: string;
  /** A few headline figures for the list (see RunHeadline). */
  headline: RunHeadline;
}

/**
 * A few headline figures of a run for the runs list, read from its stored result (leniently: an
 * older Pollard's run.json may lack fields, and then its figure is absent).
 */
export interface RunHeadline {
  backend?: string;
  method?: string;
  /** A failed run's error, first line. */
  error?: string;
  /** 0..1, the compressed model's for a compress run. */
  accuracy?: number;
  accuracyBefore?: number;
  /** After ÷ before. */
  macsRatio?: number;
  sizeRatio?: number;
  params?: number;
  macs?: number;
  sizeBytes?: number;
  samplesPerSecond?: number;
  /** 1 − after ÷ before of the measured inference energy, only where the verdict is a saving or a cost. */
  energySaving?: number;
  /** The measured inference energy's verdict otherwise, e.g. "no measurable difference". */
  energyVerdict?: string;
}

export interface RunDetails {
  summary: RunSummary;
  /** run.json as written. */
  run: Record<string, unknown>;
  /** Per-epoch metrics from events.jsonl. */
  history: Record<string, unknown>[];
  /** Files in the run folder (relative paths) with sizes. */
  files: { path: string; bytes: number }[];
}

/** `onnx-int8` calibrates on the run's dataset (its training split) and reports accuracy on its test split. */
export const MODEL_EXPORT_FORMATS = ['tfjs', 'keras-h5', 'onnx', 'onnx-int8'] as const;
export const REPORT_FORMATS = ['html', 'pdf', 'json', 'csv'] as const;

export const exportRequestSchema = z
  .object({
    runDir: z.string().min(1).max(4096),
    targetDir: z.string().min(1).max(4096),
    modelFormats: z.array(z.enum(MODEL_EXPORT_FORMATS)).max(MODEL_EXPORT_FORMATS.length),
    reportFormats: z.array(z.enum(REPORT_FORMATS)).max(4),
  })
  .strict();
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export interface ExportResult {
  files: { path: string; bytes: number }[];
  /** Formats that could not be written, with the reason (e.g. PDF without a browser engine). */
  skipped: { format: string; reason: string }[];
}

export const pathSchema = z.string().min(1).max(4096);

/** A job spec as the UI sends it: `out` may be left out, and the host assigns a new run folder. */
export type JobRequest = JobSpecInput extends infer S
  ? S extends { out: string }
    ? Omit<S, 'out'> & { out?: string }
    : S
  : never;

// ---- the interface ------------------------------------------------------------------------

export interface PollardApi {
  getSystemInfo(): Promise<SystemInfo>;
  getSettings(): Promise<Settings>;
  updateSettings(patch: SettingsPatch): Promise<Settings>;

  /** A native picker where the host has one (Electron); null when cancelled or unavailable. */
  pickPath(
    kind: 'dataset-file' | 'dataset-folder' | 'model-file' | 'model-folder' | 'export-folder',
  ): Promise<string | null>;
  /**
   * Turn dropped or chosen files into paths the engine can open: Electron reads their paths
   * (webUtils.getPathForFile, re-checked in main); the browser uploads them to `pollard serve`.
   * Files that belong together (model.json + shards, IDX pairs) come back as one folder path.
   */
  resolveFiles(files: File[]): Promise<string>;

  describeDataset(path: string): Promise<DatasetPreview>;
  inspectModel(path: string): Promise<ModelSummary>;
  /** Structured-pruning dry run over a sweep of targets (runs at once, not queued). */
  planCompression(spec: Extract<JobSpecInput, { kind: 'plan' }>): Promise<PlanResult>;

  /**
   * Queue a job (one runs at a time); events arrive through `subscribe`. Without `out`, the
   * host writes the run to `<runs folder>/<kind>-<YYYYMMDD-HHMMSS>-<4 hex>`; a spec whose
   * `backend` is `auto` uses the backend from the settings.
   */
  startJob(spec: JobRequest): Promise<JobStatus>;
  cancelJob(jobId: string): Promise<void>;
  listJobs(): Promise<JobStatus[]>;
  /** Every job event of this session, live. Returns an unsubscribe function. */
  subscribe(listener: (message: JobMessage) => void): () => void;

  listRuns(): Promise<RunSummary[]>;
  getRun(runDir: string): Promise<RunDetails>;
  /**
   * Every event of a run folder's events.jsonl in order (long runs thinned: see readRunEvents),
   * so a reloaded or resumed run's charts and log keep their history.
   */
  getRunEvents(runDir: string): Promise<JobEvent[]>;
  resumeRun(runDir: string): Promise<JobStatus>;
  exportRun(request: ExportRequest): Promise<ExportResult>;
  /** Show a folder in the OS file manager (Electron); rejects where the host cannot. */
  openFolder(path: string): Promise<void>;
  /**
   * Open an exported report (.html or .pdf) in the OS's viewer (Electron); rejects where the
   * host cannot (the browser opens the report's download link in a new tab instead).
   */
  openReport(path: string): Promise<void>;
  /**
   * Electron only: File → Open Dataset… / Open Model… in the application menu, after the
   * native dialog chose a path. Returns an unsubscribe function. Absent in the browser.
   */
  onMenuCommand?(listener: (command: MenuCommand) => void): () => void;
}

export interface MenuCommand {
  command: 'open-dataset' | 'open-model';
  path: string;
}

// ---- how hosts carry calls ---------------------------------------------------------------

export { POLLARD_API_METHODS, ipcChannel, JOB_MESSAGE_CHANNEL, REPLAY_CHANNEL } from './ipc';

/**
 * What a host returns for one call, over IPC or HTTP: errors travel as data. The Electron
 * preload rejects with the `error` object itself (contextBridge would keep only an Error's
 * message), so the renderer's bridges rebuild it with `errorFromBridge`.
 */
export type ApiResponse<T = unknown> = { ok: true; value: T } | { ok: false; error: SerializedError };

const ERROR_CODES = new Set<string>([
  'bad-input',
  'unsupported',
  'io',
  'usage',
  'cancelled',
  'non-finite',
  'oom',
  'crash',
  'internal',
]);

export function isSerializedError(value: unknown): value is SerializedError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.code === 'string' &&
    ERROR_CODES.has(candidate.code) &&
    typeof candidate.message === 'string'
  );
}

/** A bridge's rejection (SerializedError data, or any thrown value) as a PollardError. */
export function errorFromBridge(reason: unknown): PollardError {
  if (reason instanceof PollardError) return reason;
  if (isSerializedError(reason)) return PollardError.from(reason);
  return new PollardError('internal', reason instanceof Error ? reason.message : String(reason));
}

/** `pollard serve` URL paths (see the HTTP protocol in the README). */
export const SERVE_PATHS = {
  call: '/api/call/',
  events: '/api/events',
  upload: '/api/upload/',
  /** `GET ?run=<run folder>&file=<path in it>[&inline=1]`: one file of a run. */
  download: '/api/download',
  /** `GET ?run=<run folder>`: the run's export/ and report/ folders as one zip, streamed. */
  downloadZip: '/api/download.zip',
} as const;

/** The `pollard serve` URL (path and query) of one file of a run; `file` is relative to the run folder, with `/`. */
export function downloadUrlPath(runDir: string, file: string, inline = false): string {
  const query = new URLSearchParams({ run: runDir, file });
  if (inline) query.set('inline', '1');
  return `${SERVE_PATHS.download}?${query.toString()}`;
}

/** The `pollard serve` URL (path and query) of a run's export and report as a zip. */
export function downloadZipUrlPath(runDir: string): string {
  return `${SERVE_PATHS.downloadZip}?${new URLSearchParams({ run: runDir }).toString()}`;
}
/** `pollard serve` only: seal an upload batch and get the path to open. */
export const FINISH_UPLOAD_METHOD = 'finishUpload';
