/**
 * Where a report's figures come from: the model's name and files, the SHA-256 of the model and
 * the dataset (recorded by the run, or computed now and said so), the command line, and the
 * machine and backend the run used.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelSha256 } from '../model/model-files';
import { sha256OfPath } from '../util/hash';
import type { EnvironmentSection, HashRecord } from './report-types';
import { readJsonFile, type StoredRun, type StoredTraining } from './run-folder';

export function modelName(modelJson: unknown): string | undefined {
  const topology = (
    modelJson as {
      modelTopology?: { config?: { name?: unknown }; model_config?: { config?: { name?: unknown } } };
    } | null
  )?.modelTopology;
  const name = topology?.config?.name ?? topology?.model_config?.config?.name;
  return typeof name === 'string' ? name : undefined;
}

export async function readModelJson(dir: string): Promise<unknown> {
  try {
    return await readJsonFile(path.join(dir, 'model.json'));
  } catch {
    return null;
  }
}

/** The files of a stored model: a single file, a folder's regular files, or a run's `model/`. */
async function modelFiles(modelPath: string): Promise<string[]> {
  const stat = await fs.stat(modelPath);
  if (stat.isFile()) return [modelPath];
  const folder = (await fs.stat(path.join(modelPath, 'model')).catch(() => null))?.isDirectory()
    ? path.join(modelPath, 'model')
    : modelPath;
  const files: string[] = [];
  for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
    if (entry.isFile()) files.push(path.join(folder, entry.name));
  }
  return files;
}

export async function modelHash(modelPath: string | null): Promise<HashRecord> {
  if (modelPath === null)
    return { path: null, sha256: null, recordedAt: null, reason: 'the model path was not recorded' };
  try {
    return { path: modelPath, sha256: await modelSha256(await modelFiles(modelPath)), recordedAt: 'report' };
  } catch {
    return { path: modelPath, sha256: null, recordedAt: null, reason: 'the model files are no longer there' };
  }
}

export async function datasetHash(dataPath: string | null, training?: StoredTraining): Promise<HashRecord> {
  if (
    training?.datasetSha256 &&
    (dataPath === null || path.resolve(training.dataset?.source ?? '') === path.resolve(dataPath))
  ) {
    return { path: training.dataset?.source ?? dataPath, sha256: training.datasetSha256, recordedAt: 'run' };
  }
  if (dataPath === null)
    return { path: null, sha256: null, recordedAt: null, reason: 'the dataset path was not recorded' };
  try {
    return { path: dataPath, sha256: await sha256OfPath(dataPath), recordedAt: 'report' };
  } catch {
    return { path: dataPath, sha256: null, recordedAt: null, reason: 'the dataset is no longer there' };
  }
}

/** A shell-ready command line (POSIX quoting where a word needs it). */
export function shellCommand(words: readonly string[]): string {
  return words
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

export function environmentOf(
  backend: string,
  device: string,
  run: StoredRun | null,
  machine: { os: string; cpu: string; logicalCpus: number; memoryGiB: number; gpu: string } | undefined,
): EnvironmentSection {
  const cpus = os.cpus();
  const here = machine ?? {
    os: `${os.type()} ${os.release()} (${process.platform}-${process.arch})`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    logicalCpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    gpu: 'unknown: not recorded by the run',
  };
  return {
    backend,
    device,
    rungs: (run?.backend?.rungs ?? []).map((rung) => ({
      name: rung.name,
      status: rung.status,
      detail: rung.device ?? rung.reason ?? '',
    })),
    os: here.os,
    cpu: here.cpu,
    logicalCpus: here.logicalCpus,
    memoryGiB: here.memoryGiB,
    gpu: here.gpu,
    versions: { ...(run?.versions ?? {}) },
    machineRecordedAt: machine ? 'run' : 'report',
  };
}
