/**
 * The wizard's state, kept across steps: what was chosen, what the host said about it, and
 * the jobs started for it. Components read the fields and call the actions; every action
 * catches its own errors and puts them where the step shows them inline.
 */
import type {
  DatasetPreview,
  ExportRequest,
  ExportResult,
  PollardApi,
  RunDetails,
  SystemInfo,
} from '../../../shared/api';
import { PollardError } from '../../../shared/errors';
import type { ArchitectureName, CompressionMethod, InputScaling } from '../../../shared/jobs';
import type { ModelSummary } from '../../../shared/types';
import type { HostKind } from '../bridge';
import { relativePathOf } from '../files';
import {
  compressionOf,
  type CompressionView,
  parseCompressionResult,
  storedCompressionOf,
} from '../compression-result';
import { type ExploreResult, resultOfKind, type SensitivityResult } from '../../../shared/job-results';
import {
  compressSpec,
  DEFAULT_METHOD_CHOICE,
  evaluateSpec,
  exploreSpec,
  type MethodChoice,
  planKey,
  planSpec,
  sensitivitySpec,
  trainSpec,
  withMethodDefaults,
} from '../job-specs';
import { parsePlanSweep, type PlanSweep } from '../plan-sweep';
import { parseSensitivityResult, type SensitivityView } from '../sensitivity-result';
import type { JobHub } from './job-hub';
import type { JobState } from './job-state.svelte';

export const STEPS = ['dataset', 'model', 'method', 'run', 'results', 'export'] as const;
export type Step = (typeof STEPS)[number];
export const STEP_TITLES: Record<Step, string> = {
  dataset: 'Dataset',
  model: 'Model',
  method: 'Method',
  run: 'Run',
  results: 'Results',
  export: 'Export',
};

export type View = 'wizard' | 'runs' | 'settings' | 'about';

/** An error as a step shows it: what the user gave (file names) and the host's one-line message. */
export interface InlineError {
  source?: string;
  message: string;
}

export function inlineError(error: unknown, source?: string): InlineError {
  const message =
    error instanceof PollardError || error instanceof Error
      ? error.message
      : String(error ?? 'unknown error');
  return { ...(source ? { source } : {}), message };
}

/** `runDir` + "/export", with the separator the host's paths use. */
export function exportFolderOf(runDir: string): string {
  const separator = runDir.includes('\\') && !runDir.includes('/') ? '\\' : '/';
  return `${runDir.replace(/[\\/]+$/, '')}${separator}export`;
}

/** The fewest epochs in which the app waits for the channel masks to settle before pruning. */
export const SHORTEST_WATCHED_RUN = 4;

export class WizardState {
  view = $state<View>('wizard');
  step = $state<Step>('dataset');
  systemInfo = $state.raw<SystemInfo | null>(null);
  /** The bundled sample dataset, where the host says where it is. */
  readonly samplePath = $derived.by(() => {
    const path = this.systemInfo?.system.samplePath;
    return typeof path === 'string' && path.length > 0 ? path : null;
  });

  // ---- dataset ----
  datasetPath = $state<string | null>(null);
  /** What the user gave: a file name, a folder name, or "bundled sample". */
  datasetLabel = $state<string | null>(null);
  dataset = $state.raw<DatasetPreview | null>(null);
  datasetError = $state.raw<InlineError | null>(null);
  datasetBusy = $state<string | null>(null);
  /** Use only the first N samples of each split in every job (quick trials); null: all. */
  limit = $state<number | null>(null);

  // ---- model ----
  modelPath = $state<string | null>(null);
  modelLabel = $state<string | null>(null);
  model = $state.raw<ModelSummary | null>(null);
  modelError = $state.raw<InlineError | null>(null);
  modelBusy = $state<string | null>(null);
  arch = $state<ArchitectureName>('lenet');
  epochs = $state(1);
  /** "Train a smaller network": prune while training to this MACs fraction removed, optionally against a dense run. */
  pruneWhileTraining = $state(false);
  pruneTarget = $state(0.5);
  compareDense = $state(false);
  trainJob = $state.raw<JobState | null>(null);
  evaluateJob = $state.raw<JobState | null>(null);
  baselineAccuracy = $state<number | null>(null);
  /** How the model's input pixels are scaled (the Model step's choice, preset from the file's guess); null: the file's, else unit. */
  inputScaling = $state<InputScaling | null>(null);
  /** Why the model could not be evaluated on the dataset (e.g. a shape mismatch): the wizard stops at the Model step. */
  evaluationError = $state.raw<InlineError | null>(null);

  // ---- method ----
  choice = $state<MethodChoice>({ ...DEFAULT_METHOD_CHOICE });
  plan = $state.raw<PlanSweep | null>(null);
  planFor = $state<string | null>(null);
  planError = $state.raw<InlineError | null>(null);
  planBusy = $state(false);
  sensitivityJob = $state.raw<JobState | null>(null);
  sensitivity = $state.raw<SensitivityView | null>(null);
  /** The result `sensitivity` shows (a job's, or a past run's opened from Recent runs). */
  sensitivityResult = $state.raw<SensitivityResult | null>(null);
  sensitivityError = $state.raw<InlineError | null>(null);
  /** The explore run of this model (several targets measured, to pick one); its error where it could not start. */
  exploreJob = $state.raw<JobState | null>(null);
  /** Its result once finished, or a past explore run's opened from Recent runs. */
  exploreResult = $state.raw<ExploreResult | null>(null);
  exploreError = $state.raw<InlineError | null>(null);

  // ---- run, results, export ----
  compressJob = $state.raw<JobState | null>(null);
  runError = $state.raw<InlineError | null>(null);
  results = $state.raw<CompressionView | null>(null);
  /** The run the results came from (a finished job, or a past run opened from the list). */
  resultsRunDir = $state<string | null>(null);
  exportResult = $state.raw<ExportResult | null>(null);
  exportError = $state.raw<InlineError | null>(null);
  exportBusy = $state(false);
  exportTarget = $state<string | null>(null);

  readonly reachable = $derived.by((): Record<Step, boolean> => {
    const dataset = this.dataset !== null;
    const model = dataset && this.model !== null;
    const method = model && this.evaluationError === null;
    // A compress job re-attached after a reload (or opened from Recent runs) shows its Run step.
    const run = this.compressJob !== null;
    const results = this.results !== null;
    return { dataset: true, model: dataset, method, run: method || run, results, export: results };
  });

  constructor(
    readonly api: PollardApi,
    readonly hub: JobHub,
    readonly host: HostKind,
  ) {}

  // ---- navigation ----

  canAdvance(step: Step = this.step): boolean {
    const next = STEPS[STEPS.indexOf(step) + 1];
    return next !== undefined && this.reachable[next];
  }

  goto(step: Step): void {
    if (this.reachable[step]) {
      this.step = step;
      this.view = 'wizard';
    }
  }

  next(): void {
    const next = STEPS[STEPS.indexOf(this.step) + 1];
    if (next && this.canAdvance()) this.step = next;
  }

  back(): void {
    const previous = STEPS[STEPS.indexOf(this.step) - 1];
    if (previous) this.step = previous;
  }

  // ---- dataset ----

  async openDataset(path: string, label: string): Promise<void> {
    this.datasetBusy = `Reading ${label}…`;
    this.datasetError = null;
    try {
      const preview = await this.api.describeDataset(path);
      this.dataset = preview;
      this.datasetPath = path;
      this.datasetLabel = label;
      // A different dataset invalidates the baseline accuracy measured on the old one: measure it again.
      this.baselineAccuracy = null;
      this.evaluationError = null;
      if (this.modelPath) void this.evaluateBaseline();
    } catch (error) {
      this.datasetError = inlineError(error, label);
    } finally {
      this.datasetBusy = null;
    }
  }

  async datasetFromFiles(files: File[]): Promise<void> {
    if (files.length === 0) return;
    const label = describeFiles(files);
    this.datasetBusy = this.host === 'browser' ? `Uploading ${label}…` : `Opening ${label}…`;
    this.datasetError = null;
    try {
      const path = await this.api.resolveFiles(files);
      await this.openDataset(path, label);
    } catch (error) {
      this.datasetError = inlineError(error, label);
      this.datasetBusy = null;
    }
  }

  // ---- model ----

  async openModel(path: string, label: string, baselineAccuracy: number | null = null): Promise<void> {
    this.modelBusy = `Reading ${label}…`;
    this.modelError = null;
    try {
      const summary = await this.api.inspectModel(path);
      this.model = summary;
      this.modelPath = path;
      this.modelLabel = label;
      this.plan = null;
      this.planFor = null;
      this.sensitivityJob = null;
      this.sensitivity = null;
      this.sensitivityResult = null;
      this.exploreJob = null;
      this.exploreResult = null;
      this.baselineAccuracy = baselineAccuracy;
      this.inputScaling = summary.inputScalingGuess?.scaling ?? null;
      this.evaluationError = null;
      this.evaluateJob = null;
      if (baselineAccuracy === null) void this.evaluateBaseline();
    } catch (error) {
      this.modelError = inlineError(error, label);
    } finally {
      this.modelBusy = null;
    }
  }

  async modelFromFiles(files: File[]): Promise<void> {
    if (files.length === 0) return;
    const label = describeFiles(files);
    this.modelBusy = this.host === 'browser' ? `Uploading ${label}…` : `Opening ${label}…`;
    this.modelError = null;
    try {
      const path = await this.api.resolveFiles(files);
      await this.openModel(path, label);
    } catch (error) {
      this.modelError = inlineError(error, label);
      this.modelBusy = null;
    }
  }

  async trainBaseline(): Promise<void> {
    if (!this.datasetPath) return;
    this.modelError = null;
    try {
      const job = await this.hub.start(
        trainSpec({
          data: this.datasetPath,
          arch: this.arch,
          epochs: this.epochs,
          limit: this.limit,
          prune: this.pruneWhileTraining
            ? {
                targetMacs: this.pruneTarget,
                compareDense: this.compareDense,
                // Early-Bird needs a first epoch and two stable ones before the last: shorter runs prune after epoch 1.
                ...(this.epochs < SHORTEST_WATCHED_RUN ? { pruneAtEpoch: 1 } : {}),
              }
            : null,
        }),
      );
      await this.followTraining(job);
    } catch (error) {
      this.modelError = inlineError(error, `${this.arch} baseline`);
    }
  }

  /** Watch a training job (started here, resumed, or found running) and open its model when it ends. */
  async followTraining(job: JobState): Promise<void> {
    this.trainJob = job;
    const spec = job.spec;
    if (spec?.kind === 'train') {
      this.arch = spec.arch;
      this.epochs = spec.training.epochs;
      this.limit = spec.limit ?? null;
      if (this.datasetPath !== spec.data) await this.openDataset(spec.data, baseName(spec.data));
      if (this.dataset) this.step = 'model';
    }
    const label = `${this.arch} baseline`;
    try {
      if ((await job.done()) !== 'completed' || !job.result || this.trainJob !== job) return;
      const result = resultOfKind('train', job.result);
      if (!result) throw new Error(`the training run returned a ${job.result.kind} result`);
      await this.openModel(result.modelPath, label, result.accuracy);
    } catch (error) {
      this.modelError = inlineError(error, label);
    }
  }

  async evaluateBaseline(): Promise<void> {
    if (!this.modelPath || !this.datasetPath) return;
    try {
      const job = await this.hub.start(
        evaluateSpec({
          model: this.modelPath,
          data: this.datasetPath,
          limit: this.limit,
          inputScaling: this.inputScaling,
        }),
      );
      this.evaluateJob = job;
      const phase = await job.done();
      // A newer evaluation (another model or dataset) owns the outcome.
      if (this.evaluateJob !== job) return;
      const evaluation = job.result ? resultOfKind('evaluate', job.result) : undefined;
      if (phase === 'completed' && evaluation) this.baselineAccuracy = evaluation.accuracy;
      else if (phase === 'failed' && job.error) {
        this.evaluationError = { source: 'baseline accuracy', message: job.error.message };
        this.modelError = this.evaluationError;
      }
    } catch (error) {
      this.modelError = inlineError(error, this.modelLabel ?? undefined);
    }
  }

  // ---- method ----

  /** A different input scaling changes the baseline accuracy: measure it again. */
  setInputScaling(scaling: InputScaling): void {
    if (scaling === this.inputScaling) return;
    this.inputScaling = scaling;
    this.baselineAccuracy = null;
    this.evaluationError = null;
    this.modelError = null;
    void this.evaluateBaseline();
  }

  setMethod(method: CompressionMethod): void {
    this.choice = withMethodDefaults(this.choice, method);
  }

  async loadPlan(): Promise<void> {
    if (!this.modelPath) return;
    const key = planKey(this.modelPath, this.choice);
    if (this.planFor === key || this.planBusy) return;
    this.planBusy = true;
    this.planError = null;
    try {
      this.plan = parsePlanSweep(
        await this.api.planCompression(
          planSpec(this.modelPath, this.choice.criterion, this.choice.targetBy, this.choice),
        ),
      );
      this.planFor = key;
    } catch (error) {
      this.plan = null;
      this.planError = inlineError(error, this.modelLabel ?? undefined);
      return;
    } finally {
      this.planBusy = false;
    }
    // The model or criterion changed while this plan was computed: plan again for the new one.
    if (this.modelPath && planKey(this.modelPath, this.choice) !== key) await this.loadPlan();
  }

  async analyseSensitivity(): Promise<void> {
    if (!this.modelPath || !this.datasetPath) return;
    try {
      const job = await this.hub.start(
        sensitivitySpec(
          {
            model: this.modelPath,
            data: this.datasetPath,
            limit: this.limit,
            inputScaling: this.inputScaling,
          },
          this.choice.criterion,
        ),
      );
      await this.followSensitivity(job);
    } catch (error) {
      this.sensitivityError = inlineError(error);
    }
  }

  /** Watch a sensitivity job (started here, or found running) and show its curves when it ends. */
  async followSensitivity(job: JobState): Promise<void> {
    this.sensitivityJob = job;
    this.sensitivityError = null;
    this.sensitivity = null;
    this.sensitivityResult = null;
    const phase = await job.done();
    if (this.sensitivityJob !== job) return;
    const result = job.result ? resultOfKind('sensitivity', job.result) : undefined;
    if (phase === 'completed' && result) this.sensitivityError = this.showSensitivity(result);
    else if (phase === 'failed' && job.error) this.sensitivityError = { message: job.error.message };
  }

  /** Show a finished sensitivity result; returns why it cannot be shown, else null. */
  private showSensitivity(result: SensitivityResult): InlineError | null {
    try {
      this.sensitivity = parseSensitivityResult(result);
      this.sensitivityResult = result;
      return null;
    } catch (error) {
      return inlineError(error);
    }
  }

  /** Prune at each target and measure each point (ExplorePanel); the job's events and result show its progress. */
  async startExplore(targets: readonly number[], finetuneEpochs: number): Promise<void> {
    if (!this.modelPath || !this.datasetPath) return;
    this.exploreError = null;
    try {
      const data = {
        model: this.modelPath,
        data: this.datasetPath,
        limit: this.limit,
        inputScaling: this.inputScaling,
      };
      void this.followExplore(
        await this.hub.start(exploreSpec(this.choice, data, { targets, finetuneEpochs })),
      );
    } catch (error) {
      this.exploreError = inlineError(error);
    }
  }

  /** Watch an explore job (started here, or found running); its result shows when it ends. */
  async followExplore(job: JobState): Promise<void> {
    this.exploreJob = job;
    this.exploreResult = null;
    if ((await job.done()) !== 'completed' || !job.result || this.exploreJob !== job) return;
    this.exploreResult = resultOfKind('explore', job.result) ?? null;
  }

  /** The finished sensitivity run of this model with the chosen criterion, which automatic mode reuses. */
  get sensitivityRun(): string | null {
    const result = this.sensitivityResult;
    if (!this.sensitivity || !result) return null;
    // The engine refuses a sensitivity measured with another criterion: measure again instead.
    return result.criterion === this.choice.criterion ? result.runDir : null;
  }

  // ---- run ----

  async startCompression(): Promise<void> {
    if (!this.modelPath || !this.datasetPath) return;
    this.runError = null;
    this.step = 'run';
    try {
      const job = await this.hub.start(
        compressSpec(this.choice, {
          model: this.modelPath,
          data: this.datasetPath,
          limit: this.limit,
          sensitivityRun: this.sensitivityRun,
          inputScaling: this.inputScaling,
        }),
      );
      await this.follow(job);
    } catch (error) {
      this.runError = inlineError(error);
    }
  }

  /** Watch a compress job (new, resumed, or found running) until it ends; then show its results. */
  async follow(job: JobState): Promise<void> {
    this.compressJob = job;
    if (job.spec?.kind === 'compress') this.choice = { ...this.choice, method: job.spec.method };
    this.results = null;
    this.exportResult = null;
    if ((await job.done()) !== 'completed' || !job.result || this.compressJob !== job) return;
    const compression = compressionOf(job.result);
    if (compression) {
      this.results = parseCompressionResult(compression);
      this.resultsRunDir = this.results.runDir ?? job.runDir;
    } else {
      this.runError = { message: 'the run finished but its result has no before/after comparison' };
    }
  }

  async cancelCompression(): Promise<void> {
    if (!this.compressJob) return;
    try {
      await this.hub.cancel(this.compressJob);
    } catch (error) {
      this.runError = inlineError(error);
    }
  }

  async resumeCompression(): Promise<void> {
    const runDir = this.compressJob?.runDir;
    if (!runDir) return;
    this.runError = null;
    try {
      await this.follow(await this.hub.resume(runDir));
    } catch (error) {
      this.runError = inlineError(error, runDir);
    }
  }

  // ---- results and export ----

  /** Show a past compress run's results (from the recent-runs list). */
  showRun(details: RunDetails): boolean {
    const result = details.run.result;
    const compression = storedCompressionOf(result);
    if (!compression) return false;
    this.results = parseCompressionResult(compression);
    this.resultsRunDir = details.summary.dir;
    this.exportResult = null;
    this.exportTarget = null;
    this.view = 'wizard';
    this.step = 'results';
    return true;
  }

  /** Show a past explore or sensitivity run's result on the Method step, its model open (persist's openRun). */
  showMethodResult(result: ExploreResult | SensitivityResult): void {
    if (result.kind === 'explore') [this.exploreJob, this.exploreResult] = [null, result];
    else [this.sensitivityJob, this.sensitivityError] = [null, this.showSensitivity(result)];
    this.goto('method');
  }

  defaultExportTarget(): string | null {
    return this.resultsRunDir ? exportFolderOf(this.resultsRunDir) : null;
  }

  async exportRun(request: Omit<ExportRequest, 'runDir' | 'targetDir'>): Promise<void> {
    const runDir = this.resultsRunDir;
    const targetDir = this.exportTarget ?? this.defaultExportTarget();
    if (!runDir || !targetDir) return;
    this.exportBusy = true;
    this.exportError = null;
    try {
      this.exportResult = await this.api.exportRun({ runDir, targetDir, ...request });
      this.exportTarget = targetDir;
    } catch (error) {
      this.exportError = inlineError(error, targetDir);
    } finally {
      this.exportBusy = false;
    }
  }
}

/** The last segment of a host path, for labels. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** "train-images.gz", "4 files (train-images.gz, …)" or a dropped folder's name. */
export function describeFiles(files: File[]): string {
  const first = files[0];
  if (!first) return 'no files';
  const relative = relativePathOf(first);
  if (relative.includes('/')) return relative.split('/')[0]!;
  return files.length === 1 ? first.name : `${files.length} files (${first.name}, …)`;
}
