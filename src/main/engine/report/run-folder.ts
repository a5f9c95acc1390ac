/**
 * Finds what a run folder holds for a report: a compress run (compression.json), a demo run
 * (baseline/ + compressed/), or a train run (training.json); with or without run.json (the
 * demo's sub-runs have none). Reads each file once and says precisely what is missing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, ioError, unsupported } from '../../../shared/errors';
import { parseRunRecord, type StoredRunRecord } from '../../../shared/run-record';
import type { EnergyFigure, LayerSummary } from '../../../shared/types';
import type { CompressResult } from '../compress/compress-job';
import type { SensitivityResult } from '../compress/sensitivity';
import type { EpochMetrics } from '../train/loop';
import type { CompressEnergyMeasurements } from '../energy/compress-energy';

/** run.json: the shared schema's record (validated on read). */
export type StoredRun = StoredRunRecord;

/** compression.json; `energy` is absent in runs made before it was recorded. */
export type StoredCompression = Omit<CompressResult, 'energy'> & {
  energy?: {
    before?: EnergyFigure;
    after?: EnergyFigure;
    assumptions?: string[];
    measured?: CompressEnergyMeasurements;
  };
};

/** training.json (TrainResult plus the dataset description and the layer table). */
export interface StoredTraining {
  backend: string;
  device: string;
  arch: string;
  accuracy: number;
  evaluatedOn: string;
  params: number;
  macs: number;
  sizeBytes: number;
  sizeGzipBytes: number;
  epochs: number;
  history: EpochMetrics[];
  evaluation?: { count?: number };
  trainingEnergy?: EnergyFigure;
  datasetSha256?: string;
  modelSha256?: string;
  dataset?: { source?: string; format?: string; classNames?: string[]; train?: { count?: number } };
  layers?: LayerSummary[];
}

export interface RunFolder {
  dir: string;
  kind: 'compress' | 'demo' | 'train';
  run: StoredRun | null;
  /** The compress part (compress run, or a demo's compressed/). */
  compression?: {
    dir: string;
    result: StoredCompression;
    sensitivity?: { file: string; result: SensitivityResult };
  };
  /** The original's train run: a demo's baseline/, the train run itself, or the compress run's source. */
  training?: { dir: string; result: StoredTraining; run: StoredRun | null };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function readJsonFile<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw ioError(file, code === 'ENOENT' ? 'not found' : `could not read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw badInput(file, 'is not valid JSON');
  }
}

async function readOptional<T>(file: string): Promise<T | null> {
  return (await exists(file)) ? readJsonFile<T>(file) : null;
}

/** run.json when the folder has one, validated by the shared schema (a damaged one names the file and field). */
async function readRunJson(dir: string): Promise<StoredRun | null> {
  const file = path.join(dir, 'run.json');
  return (await exists(file)) ? parseRunRecord(file, await fs.readFile(file, 'utf8')) : null;
}

/** The train run a model path belongs to: the path itself, or the folder above its `model/`. */
async function trainRunOfModel(modelPath: string): Promise<string | undefined> {
  for (const candidate of [modelPath, path.dirname(modelPath)]) {
    if (await exists(path.join(candidate, 'training.json'))) return candidate;
  }
  return undefined;
}

async function readTraining(dir: string): Promise<RunFolder['training']> {
  const result = await readJsonFile<StoredTraining>(path.join(dir, 'training.json'));
  if (!Array.isArray(result.history)) throw badInput(path.join(dir, 'training.json'), 'has no history');
  return { dir, result, run: await readRunJson(dir) };
}

async function readCompression(
  dir: string,
  run: StoredRun | null,
): Promise<NonNullable<RunFolder['compression']>> {
  const file = path.join(dir, 'compression.json');
  if (!(await exists(file))) {
    const status = run?.status ? ` (status: ${run.status})` : '';
    throw ioError(file, `not found: the compress run has not finished${status}`);
  }
  const result = await readJsonFile<StoredCompression>(file);
  if (!result.before || !result.after || !Array.isArray(result.layers)) {
    throw badInput(file, 'is not a Pollard compression record (no before, after or layers)');
  }
  const sensitivityFile = result.structured?.auto?.sensitivityFile ?? path.join(dir, 'sensitivity.json');
  const local = path.join(dir, path.basename(sensitivityFile));
  const sensitivityPath = (await exists(sensitivityFile)) ? sensitivityFile : local;
  const sensitivity = await readOptional<SensitivityResult>(sensitivityPath);
  return {
    dir,
    result,
    ...(sensitivity && Array.isArray(sensitivity.groups)
      ? { sensitivity: { file: sensitivityPath, result: sensitivity } }
      : {}),
  };
}

/** The model a compress run started from: its spec, else the compressed model's metadata. */
async function compressSource(dir: string, run: StoredRun | null): Promise<string | undefined> {
  if (run && 'model' in run.spec) return run.spec.model;
  const modelJson = await readOptional<{
    userDefinedMetadata?: { pollard?: { producedBy?: { source?: unknown } } };
  }>(path.join(dir, 'model', 'model.json'));
  const source = modelJson?.userDefinedMetadata?.pollard?.producedBy?.source;
  return typeof source === 'string' ? source : undefined;
}

export async function readRunFolder(target: string): Promise<RunFolder> {
  const dir = path.resolve(target);
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw ioError(dir, 'not found');
  }
  if (!stat.isDirectory()) throw badInput(dir, 'is not a folder: give a run folder');
  const run = await readRunJson(dir);

  let kind: RunFolder['kind'];
  if (run?.kind === 'compress' || run?.kind === 'demo' || run?.kind === 'train') kind = run.kind;
  else if (run?.kind !== undefined) {
    throw unsupported(
      dir,
      `run kind ${JSON.stringify(run.kind)} has no report; report on a compress, demo or train run`,
    );
  } else if (await exists(path.join(dir, 'compression.json'))) kind = 'compress';
  else if ((await exists(path.join(dir, 'baseline'))) && (await exists(path.join(dir, 'compressed'))))
    kind = 'demo';
  else if (await exists(path.join(dir, 'training.json'))) kind = 'train';
  else {
    throw ioError(dir, 'not a Pollard run folder (no run.json, compression.json or training.json)');
  }

  if (kind === 'train') {
    if (!(await exists(path.join(dir, 'training.json')))) {
      throw ioError(
        path.join(dir, 'training.json'),
        `not found: the train run has not finished${run?.status ? ` (status: ${run.status})` : ''}`,
      );
    }
    return { dir, kind, run, training: await readTraining(dir) };
  }
  if (kind === 'demo') {
    const compression = await readCompression(path.join(dir, 'compressed'), run);
    const baseline = path.join(dir, 'baseline');
    return {
      dir,
      kind,
      run,
      compression,
      ...((await exists(path.join(baseline, 'training.json')))
        ? { training: await readTraining(baseline) }
        : {}),
    };
  }
  const compression = await readCompression(dir, run);
  const source = await compressSource(dir, run);
  const trainDir = source ? await trainRunOfModel(source) : undefined;
  return { dir, kind, run, compression, ...(trainDir ? { training: await readTraining(trainDir) } : {}) };
}
