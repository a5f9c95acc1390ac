/**
 * Export a finished run into a folder the user chose: the host copies the run's tfjs model
 * (model/); the app service runs the engine's `export-model` job for Keras .h5 and its
 * `report` job for the report formats; a format that could not be written is listed in
 * `skipped` with the reason.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExportRequest, ExportResult } from '../../shared/api';
import { ioError, usageError } from '../../shared/errors';
import { readRun } from './runs';

function inside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

async function copyFileAtomic(from: string, to: string): Promise<number> {
  const temp = `${to}.${randomBytes(4).toString('hex')}.part`;
  try {
    await fs.copyFile(from, temp);
    await fs.rename(temp, to);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(to, `could not write: ${(error as Error).message}`);
  }
  return (await fs.stat(to)).size;
}

/** Copy the regular files of `from` into `to` (symlinks are skipped: they may point anywhere). */
async function copyTree(from: string, to: string, written: ExportResult['files']): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) await copyTree(source, target, written);
    else if (entry.isFile()) written.push({ path: target, bytes: await copyFileAtomic(source, target) });
  }
}

/** The model formats the host can export without the engine: a copy of the tfjs model. */
export async function exportModelFiles(request: ExportRequest): Promise<ExportResult> {
  const runDir = path.resolve(request.runDir);
  const targetDir = path.resolve(request.targetDir);
  const run = await readRun(runDir);
  const modelDir = path.join(runDir, 'model');
  if (inside(modelDir, targetDir)) {
    throw usageError(`${targetDir}: choose a folder outside the run's model folder`);
  }
  try {
    await fs.mkdir(targetDir, { recursive: true });
  } catch (error) {
    throw ioError(targetDir, `could not create the folder: ${(error as Error).message}`);
  }
  const files: ExportResult['files'] = [];
  const skipped: ExportResult['skipped'] = [];
  for (const format of request.modelFormats) {
    // Other formats are converted by the engine's export-model job (the app service runs it).
    if (format !== 'tfjs') continue;
    const stat = await fs.stat(path.join(modelDir, 'model.json')).catch(() => undefined);
    if (!stat?.isFile()) {
      throw ioError(
        modelDir,
        `no model.json: this ${run.kind} run has no model to export (status: ${run.status})`,
      );
    }
    await copyTree(modelDir, path.join(targetDir, 'model'), files);
  }
  return { files, skipped };
}

/** Files a report job says it wrote, with their sizes. */
export async function reportFilesWritten(result: Record<string, unknown>): Promise<ExportResult['files']> {
  const written = Object.values((result.files ?? {}) as Record<string, string>);
  const files: ExportResult['files'] = [];
  for (const file of written) {
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isFile()) files.push({ path: file, bytes: stat.size });
  }
  return files;
}
