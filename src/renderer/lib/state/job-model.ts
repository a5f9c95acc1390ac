/**
 * What the renderer knows about one job, rebuilt from its event stream. `applyJobEvent` is
 * plain TypeScript so it is testable without Svelte; `JobState` (job-state.svelte.ts) is the
 * same shape with `$state` fields, so the UI updates as events arrive.
 *
 * Histories are replaced, never mutated (they live in `$state.raw` fields), and bounded so a
 * long run cannot make the renderer slow.
 */
import type { SerializedError } from '../../../shared/errors';
import type { JobResult } from '../../../shared/job-results';
import type { JobEvent, JobKind, LiveEnergy, PrunedEvent } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { SeqWindow } from './seq-window';

export type JobPhase = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** x: fractional epochs since the start (epoch 1, batch 50 of 100 → 0.5); y: the value. */
export interface MetricPoint {
  x: number;
  y: number;
}

export interface LogLine {
  seq: number;
  time: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export interface BatchStatus {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  samplesPerSecond: number;
}

export interface JobModel {
  jobId: string;
  kind: JobKind | null;
  phase: JobPhase;
  /** Event seqs already applied: replayed or repeated events are ignored. */
  readonly seen: SeqWindow;
  backend: BackendReport | null;
  runDir: string | null;
  stage: string | null;
  stageDetail: string | null;
  /** 0..1 over the whole job where known. */
  fraction: number | null;
  etaSeconds: number | null;
  batch: BatchStatus | null;
  loss: MetricPoint[];
  accuracy: MetricPoint[];
  valLoss: MetricPoint[];
  valAccuracy: MetricPoint[];
  power: MetricPoint[];
  energy: LiveEnergy | null;
  logs: LogLine[];
  result: JobResult | null;
  error: SerializedError | null;
  startedAt: number | null;
  /** Pruned while training: each shrink step, in order. */
  prunes: Omit<PrunedEvent, 'type'>[];
}

export const MAX_HISTORY_POINTS = 2000;
export const MAX_LOG_LINES = 500;

export function emptyJobModel(jobId: string, kind: JobKind | null = null): JobModel {
  return {
    jobId,
    kind,
    phase: 'queued',
    seen: new SeqWindow(),
    backend: null,
    runDir: null,
    stage: null,
    stageDetail: null,
    fraction: null,
    etaSeconds: null,
    batch: null,
    loss: [],
    accuracy: [],
    valLoss: [],
    valAccuracy: [],
    power: [],
    energy: null,
    logs: [],
    result: null,
    error: null,
    startedAt: null,
    prunes: [],
  };
}

/**
 * Append to a history, halving the older points' density when it grows past the bound. A history
 * runs forward in x: a point at or before the last ones replaces them (a resumed run repeats the
 * batches after its last checkpoint).
 */
export function appendPoint(history: readonly MetricPoint[], point: MetricPoint): MetricPoint[] {
  let keep = history.length;
  while (keep > 0 && history[keep - 1]!.x >= point.x) keep -= 1;
  const next = [...history.slice(0, keep), point];
  if (next.length <= MAX_HISTORY_POINTS) return next;
  return next.filter((_, i) => i % 2 === 0 || i === next.length - 1);
}

/** `earlier` up to where `later` starts, then `later`: one history over two stretches of a run. */
export function spliceSeries(earlier: readonly MetricPoint[], later: readonly MetricPoint[]): MetricPoint[] {
  const from = later[0]?.x ?? Infinity;
  const joined = [...earlier.filter((p) => p.x < from), ...later];
  while (joined.length > MAX_HISTORY_POINTS) {
    const halved = joined.filter((_, i) => i % 2 === 0 || i === joined.length - 1);
    joined.splice(0, joined.length, ...halved);
  }
  return joined;
}

export const SERIES_KEYS = ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'power'] as const;

/**
 * A run's history rebuilt from its events.jsonl: each process that worked on the run (a
 * `started` event each) numbers its events from 0 again, so each stretch is applied with its
 * own seq window, and a later stretch takes over its histories from where it starts.
 */
export function modelFromEvents(jobId: string, events: readonly JobEvent[]): JobModel {
  const merged = emptyJobModel(jobId);
  let stretch: JobModel | null = null;
  const close = (): void => {
    if (!stretch) return;
    for (const key of SERIES_KEYS) merged[key] = spliceSeries(merged[key], stretch[key]);
    const logs = [...merged.logs, ...stretch.logs];
    merged.logs = logs.slice(Math.max(0, logs.length - MAX_LOG_LINES));
    merged.prunes = [...merged.prunes, ...stretch.prunes];
    for (const key of [
      'kind',
      'phase',
      'backend',
      'runDir',
      'stage',
      'stageDetail',
      'fraction',
      'etaSeconds',
      'batch',
      'energy',
      'result',
      'error',
      'startedAt',
    ] as const)
      Object.assign(merged, { [key]: stretch[key] ?? merged[key] });
    merged.phase = stretch.phase;
  };
  for (const event of events) {
    if (event.type === 'started' || !stretch) {
      close();
      stretch = emptyJobModel(jobId);
    }
    applyJobEvent(stretch, event);
  }
  close();
  return merged;
}

function appendLog(model: JobModel, line: LogLine): void {
  const next = [...model.logs, line];
  model.logs = next.length > MAX_LOG_LINES ? next.slice(next.length - MAX_LOG_LINES) : next;
}

const TERMINAL: ReadonlySet<JobPhase> = new Set(['completed', 'failed', 'cancelled']);

export function isTerminal(phase: JobPhase): boolean {
  return TERMINAL.has(phase);
}

/** Apply one event; returns false when it was a repeat (seq already seen) and changed nothing. */
export function applyJobEvent(model: JobModel, event: JobEvent): boolean {
  if (!model.seen.add(event.seq)) return false;
  switch (event.type) {
    case 'started':
      model.phase = 'running';
      model.kind = event.kind;
      model.backend = event.backend;
      model.startedAt = event.time;
      if (event.runDir) model.runDir = event.runDir;
      appendLog(model, {
        seq: event.seq,
        time: event.time,
        level: 'info',
        message: `started ${event.kind} on ${event.backend.used} (${event.backend.device})`,
      });
      break;
    case 'stage':
      if (model.phase === 'queued') model.phase = 'running';
      // Progress and ETA describe the current stage: a new stage starts without them.
      if (event.stage !== model.stage) {
        model.fraction = null;
        model.etaSeconds = null;
      }
      model.stage = event.stage;
      model.stageDetail = event.detail ?? null;
      appendLog(model, {
        seq: event.seq,
        time: event.time,
        level: 'info',
        message: event.detail ? `${event.stage}: ${event.detail}` : event.stage,
      });
      break;
    case 'pruned': {
      const { type: _type, seq: _seq, time: _time, ...prune } = event;
      model.prunes = [...model.prunes, prune];
      break;
    }
    case 'progress':
      model.stage = event.stage;
      model.fraction = event.total > 0 ? Math.min(1, event.done / event.total) : null;
      model.etaSeconds = event.etaSeconds ?? null;
      break;
    case 'batch': {
      const x = event.epoch - 1 + event.batch / Math.max(1, event.batches);
      model.batch = {
        epoch: event.epoch,
        epochs: event.epochs,
        batch: event.batch,
        batches: event.batches,
        samplesPerSecond: event.samplesPerSecond,
      };
      model.fraction = Math.min(1, x / Math.max(1, event.epochs));
      model.etaSeconds = event.etaSeconds;
      model.loss = appendPoint(model.loss, { x, y: event.loss });
      model.accuracy = appendPoint(model.accuracy, { x, y: event.accuracy });
      if (event.energy) {
        model.energy = event.energy;
        if (event.energy.watts !== null) model.power = appendPoint(model.power, { x, y: event.energy.watts });
      }
      break;
    }
    case 'epoch': {
      const x = event.epoch;
      if (event.valLoss !== undefined) model.valLoss = appendPoint(model.valLoss, { x, y: event.valLoss });
      if (event.valAccuracy !== undefined)
        model.valAccuracy = appendPoint(model.valAccuracy, { x, y: event.valAccuracy });
      if (event.energy) model.energy = event.energy;
      appendLog(model, {
        seq: event.seq,
        time: event.time,
        level: 'info',
        message:
          `epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toFixed(4)}, accuracy ${(event.accuracy * 100).toFixed(2)}%` +
          (event.valAccuracy !== undefined ? `, validation ${(event.valAccuracy * 100).toFixed(2)}%` : '') +
          `, ${Math.round(event.samplesPerSecond)} samples/s`,
      });
      break;
    }
    case 'checkpoint':
      appendLog(model, {
        seq: event.seq,
        time: event.time,
        level: 'debug',
        message: `checkpoint after epoch ${event.epoch}`,
      });
      break;
    case 'log':
      appendLog(model, { seq: event.seq, time: event.time, level: event.level, message: event.message });
      break;
    case 'result':
      model.phase = 'completed';
      model.result = event.result;
      model.fraction = 1;
      model.etaSeconds = 0;
      if ('runDir' in event.result && typeof event.result.runDir === 'string')
        model.runDir = event.result.runDir;
      break;
    case 'error':
      model.phase = 'failed';
      model.error = event.error;
      appendLog(model, { seq: event.seq, time: event.time, level: 'error', message: event.error.message });
      break;
    case 'cancelled':
      model.phase = 'cancelled';
      appendLog(model, {
        seq: event.seq,
        time: event.time,
        level: 'warn',
        message:
          event.epoch !== undefined
            ? `cancelled at epoch ${event.epoch}${event.batch !== undefined ? `, batch ${event.batch}` : ''}`
            : 'cancelled',
      });
      break;
  }
  return true;
}
