/**
 * Run folders. Every job with an output folder records itself there, so nothing is lost:
 *
 *   run.json       spec, status, versions, backend, seed, command, result or error
 *   events.jsonl   every event, one JSON object per line
 *   checkpoints/   written by the job process (two generations)
 *   model/         the exported model
 *   report/        reports
 *
 * The host (not the job process) writes run.json and events.jsonl, so a job process that
 * crashes still leaves a complete record with its reason.
 */
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { ioError, type SerializedError } from '../../shared/errors';
import type { JobEvent, JobSpec } from '../../shared/jobs';
import { parseRunRecord, type RUN_STATUSES } from '../../shared/run-record';
import type { BackendReport } from '../../shared/types';
import { writeJsonAtomic } from '../util/atomic';
import { POLLARD_VERSION } from '../util/version';
import type { JobOutcome } from './job-host';

export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  format: 'pollard-run/1';
  id: string;
  kind: JobSpec['kind'];
  spec: JobSpec;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** The job process, while running: a run whose process is gone is "interrupted". */
  pid?: number;
  /** The host process (CLI, server or app) that owns the run. */
  hostPid: number;
  seed: number;
  pollardVersion: string;
  versions?: Record<string, string>;
  backend?: BackendReport;
  /** The command line that started the run, when it came from the CLI. */
  command?: string[];
  /** The job's result as written (a JobResult); read it back with readJobResult(kind, …). */
  result?: Record<string, unknown>;
  error?: SerializedError;
  /** How many times this run was resumed. */
  resumes: number;
}

export const RUN_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';

export async function readRun(runDir: string): Promise<RunRecord> {
  const file = path.join(runDir, RUN_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw ioError(file, 'not found: this folder is not a Pollard run');
  }
  return parseRunRecord(file, text);
}

function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run marked running whose host and job processes are both gone was interrupted (killed, power cut). */
export function isInterrupted(run: RunRecord): boolean {
  return run.status === 'running' && !processAlive(run.pid) && !processAlive(run.hostPid);
}

/**
 * A crash can leave events.jsonl ending in half a line; appending to it would glue the next
 * event onto that fragment and lose both. Ends such a fragment with a newline (readers skip the
 * fragment as a line that does not parse).
 */
export async function endTornLine(file: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(file, 'r+');
  } catch {
    return; // no events yet
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) await handle.write('\n', size);
  } finally {
    await handle.close();
  }
}

/** Records one job into its run folder. */
export class RunRecorder {
  private record: RunRecord;
  private readonly events: WriteStream;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly runDir: string,
    record: RunRecord,
  ) {
    this.record = record;
    this.events = createWriteStream(path.join(runDir, EVENTS_FILE), { flags: 'a' });
  }

  /** Create (or, for a resume, reopen) the run folder and mark the run running. */
  static async open(
    runDir: string,
    spec: JobSpec,
    options: { id: string; command?: string[] },
  ): Promise<RunRecorder> {
    try {
      await fs.mkdir(runDir, { recursive: true });
    } catch (error) {
      throw ioError(runDir, `could not create the run folder: ${(error as Error).message}`);
    }
    const now = new Date().toISOString();
    let previous: RunRecord | undefined;
    if ('resume' in spec && spec.resume) previous = await readRun(runDir).catch(() => undefined);
    const record: RunRecord = {
      format: 'pollard-run/1',
      id: previous?.id ?? options.id,
      kind: spec.kind,
      spec,
      status: 'running',
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      hostPid: process.pid,
      seed: spec.seed,
      pollardVersion: POLLARD_VERSION,
      resumes: previous ? previous.resumes + 1 : 0,
      ...(options.command
        ? { command: options.command }
        : previous?.command
          ? { command: previous.command }
          : {}),
    };
    await endTornLine(path.join(runDir, EVENTS_FILE));
    const recorder = new RunRecorder(runDir, record);
    await recorder.save();
    return recorder;
  }

  get run(): RunRecord {
    return this.record;
  }

  onEvent(event: JobEvent): void {
    this.events.write(JSON.stringify(event) + '\n');
    if (event.type === 'started') {
      this.update({ pid: event.pid, backend: event.backend, versions: event.versions });
    }
  }

  async finish(outcome: JobOutcome): Promise<RunRecord> {
    if (outcome.status === 'completed') this.update({ status: 'completed', result: outcome.result });
    else if (outcome.status === 'failed') this.update({ status: 'failed', error: outcome.error });
    else this.update({ status: 'cancelled' });
    await new Promise<void>((resolve) => this.events.end(resolve));
    await this.writing;
    return this.record;
  }

  private update(patch: Partial<RunRecord>): void {
    this.record = { ...this.record, ...patch, updatedAt: new Date().toISOString() };
    void this.save();
  }

  private save(): Promise<void> {
    const snapshot = this.record;
    this.writing = this.writing.then(() => writeJsonAtomic(path.join(this.runDir, RUN_FILE), snapshot));
    return this.writing;
  }
}

export interface RunListing {
  dir: string;
  run: RunRecord;
  interrupted: boolean;
}

/** Runs directly inside `root`, newest first. Folders that are not runs are skipped. */
export async function listRuns(root: string): Promise<RunListing[]> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return [];
  }
  const runs: RunListing[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    try {
      const run = await readRun(dir);
      runs.push({ dir, run, interrupted: isInterrupted(run) });
    } catch {
      // not a run folder
    }
  }
  return runs.sort((a, b) => b.run.createdAt.localeCompare(a.run.createdAt));
}
