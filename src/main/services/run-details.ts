/**
 * Run folders as the app shows them: a summary line per run (with a few headline numbers),
 * and for one run its record, its per-epoch history from events.jsonl, and its files.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunDetails, RunHeadline, RunSummary } from '../../shared/api';
import type { JobEvent } from '../../shared/jobs';
import { EVENTS_FILE, isInterrupted, listRuns, readRun, RUN_FILE, type RunRecord } from './runs';

/** Files listed per run at most: a run folder is small, a runaway one must not stall the UI. */
export const MAX_LISTED_FILES = 5_000;

function numberAt(value: unknown, ...keys: string[]): number | undefined {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'number' && Number.isFinite(current) ? current : undefined;
}

/**
 * The measured inference energy's verdict (the protocol's `total` comparison): a saving only
 * where the protocol calls it one (or a cost), else its verdict in words.
 */
function inferenceEnergyHeadline(result: Record<string, unknown>): RunHeadline {
  const measured = (result.energy as { measured?: { inference?: unknown } } | undefined)?.measured;
  const inference = measured?.inference as { status?: unknown; result?: { savings?: unknown } } | undefined;
  if (inference?.status !== 'measured' || !Array.isArray(inference.result?.savings)) return {};
  const total = (inference.result.savings as Record<string, unknown>[]).find((s) => s?.id === 'total');
  if (!total) return {};
  const saving = numberAt(total, 'saving');
  if (saving !== undefined && (total.verdict === 'saving' || total.verdict === 'costlier'))
    return { energySaving: saving };
  return typeof total.verdict === 'string' ? { energyVerdict: total.verdict } : {};
}

/** A few numbers for the runs list, taken from the result where present. */
export function headlineOf(run: RunRecord): RunHeadline {
  const headline: RunHeadline = {};
  if (run.backend) headline.backend = run.backend.used;
  const method = (run.spec as { method?: unknown }).method;
  if (typeof method === 'string') headline.method = method;
  const result = run.result;
  if (!result) {
    if (run.error) headline.error = run.error.message.split('\n')[0] ?? '';
    return headline;
  }
  const after = numberAt(result, 'after', 'accuracy');
  const before = numberAt(result, 'before', 'accuracy');
  if (after !== undefined) headline.accuracy = after;
  else {
    const accuracy = numberAt(result, 'accuracy') ?? numberAt(result, 'evaluation', 'accuracy');
    if (accuracy !== undefined) headline.accuracy = accuracy;
  }
  if (before !== undefined) headline.accuracyBefore = before;
  const macsBefore = numberAt(result, 'before', 'macs');
  const macsAfter = numberAt(result, 'after', 'macs');
  if (macsBefore !== undefined && macsAfter !== undefined && macsBefore > 0) {
    headline.macsRatio = macsAfter / macsBefore;
  }
  const sizeBefore = numberAt(result, 'before', 'sizeBytes');
  const sizeAfter = numberAt(result, 'after', 'sizeBytes');
  if (sizeBefore !== undefined && sizeAfter !== undefined && sizeBefore > 0) {
    headline.sizeRatio = sizeAfter / sizeBefore;
  }
  for (const key of ['params', 'macs', 'sizeBytes', 'samplesPerSecond'] as const) {
    const value = numberAt(result, key);
    if (value !== undefined) headline[key] = value;
  }
  Object.assign(headline, inferenceEnergyHeadline(result));
  return headline;
}

export function summarizeRun(dir: string, run: RunRecord, interrupted = isInterrupted(run)): RunSummary {
  return {
    dir,
    id: run.id,
    kind: run.kind,
    status: run.status,
    interrupted,
    // A finished run is complete; only train and compress continue from a checkpoint.
    resumable:
      'resume' in run.spec && run.status !== 'completed' && (run.status !== 'running' || interrupted),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    headline: headlineOf(run),
  };
}

/** A folder with a run.json that does not parse: listed as damaged, with the reason, never skipped silently. */
async function damagedSummary(dir: string): Promise<RunSummary | undefined> {
  const file = path.join(dir, RUN_FILE);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) return undefined;
  let reason: string;
  try {
    await readRun(dir);
    return undefined;
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  const when = stat.mtime.toISOString();
  return {
    dir,
    id: path.basename(dir),
    kind: 'unknown',
    status: 'damaged',
    damaged: reason,
    interrupted: false,
    resumable: false,
    createdAt: when,
    updatedAt: when,
    headline: {},
  };
}

/** Runs directly inside `root`, newest first, damaged ones included (with the reason). */
export async function listRunSummaries(root: string): Promise<RunSummary[]> {
  const runs = await listRuns(root);
  const listed = new Set(runs.map((r) => r.dir));
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const damaged = (
    await Promise.all(
      names
        .map((name) => path.join(root, name))
        .filter((dir) => !listed.has(dir))
        .map(damagedSummary),
    )
  ).filter((summary): summary is RunSummary => summary !== undefined);
  return [...runs.map(({ dir, run, interrupted }) => summarizeRun(dir, run, interrupted)), ...damaged].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt),
  );
}

/**
 * Epoch events, in order, as plain objects. A resumed run repeats the epochs after its last
 * checkpoint; the later record of a (stage, epoch) wins and keeps the first one's place.
 */
export async function readEpochHistory(runDir: string): Promise<Record<string, unknown>[]> {
  const file = path.join(runDir, EVENTS_FILE);
  let stream;
  try {
    await fs.access(file);
    stream = createReadStream(file, { encoding: 'utf8' });
  } catch {
    return [];
  }
  const byKey = new Map<string, Record<string, unknown>>();
  let stage: string | undefined;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let event: JobEvent;
    try {
      event = JSON.parse(line) as JobEvent;
    } catch {
      continue; // a line cut short by a crash
    }
    if (event.type === 'started') stage = undefined;
    if (event.type === 'stage') stage = event.stage;
    if (event.type !== 'epoch') continue;
    const { type: _type, seq: _seq, ...fields } = event;
    const entry: Record<string, unknown> = { ...fields, ...(stage !== undefined ? { stage } : {}) };
    const key = `${stage ?? ''}\u0000${event.epoch}`;
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

/** Batch events returned by readRunEvents at most: more are thinned evenly (the charts bound their points anyway). */
export const MAX_REPLAYED_BATCHES = 4000;
/** Log events returned by readRunEvents at most: the last ones. */
export const MAX_REPLAYED_LOGS = 500;

/**
 * Every event of a run, in the order written (each process that worked on the run starts with
 * its own `started` event), so a window can rebuild a run's charts and log after a reload or a
 * resume. Long runs are thinned: every batch event up to MAX_REPLAYED_BATCHES (then evenly
 * spaced ones, always the last), the last MAX_REPLAYED_LOGS log events, all the others.
 */
export async function readRunEvents(runDir: string): Promise<JobEvent[]> {
  const file = path.join(runDir, EVENTS_FILE);
  let stream;
  try {
    await fs.access(file);
    stream = createReadStream(file, { encoding: 'utf8' });
  } catch {
    return [];
  }
  const events: JobEvent[] = [];
  let batches = 0;
  let logs = 0;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const event = JSON.parse(line) as JobEvent;
      if (typeof event?.type !== 'string' || typeof event.seq !== 'number') continue;
      if (event.type === 'batch') batches += 1;
      if (event.type === 'log') logs += 1;
      events.push(event);
    } catch {
      // a line cut short by a crash
    }
  }
  const every = Math.ceil(batches / MAX_REPLAYED_BATCHES);
  let batch = 0;
  let log = 0;
  return events.filter((event) => {
    if (event.type === 'batch') {
      batch += 1;
      return batch % every === 0 || batch === batches;
    }
    if (event.type === 'log') {
      log += 1;
      return log > logs - MAX_REPLAYED_LOGS;
    }
    return true;
  });
}

/** Regular files under `dir` (no symlinks followed), relative paths with `/`, sorted. */
export async function listRunFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  const files: { path: string; bytes: number }[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (files.length >= MAX_LISTED_FILES) return;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) {
        const stat = await fs.stat(path.join(dir, child));
        files.push({ path: child, bytes: stat.size });
      }
    }
  };
  await walk('');
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

export async function readRunDetails(runDir: string): Promise<RunDetails> {
  const run = await readRun(runDir);
  const [history, files] = await Promise.all([readEpochHistory(runDir), listRunFiles(runDir)]);
  return {
    summary: summarizeRun(runDir, run),
    run: run as unknown as Record<string, unknown>,
    history,
    files,
  };
}
