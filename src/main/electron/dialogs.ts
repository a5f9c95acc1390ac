/** Native pickers for pickPath; showing a folder (openFolder) and a report (openReport) through the OS. */
import { promises as fs } from 'node:fs';
import { type BrowserWindow, dialog, type OpenDialogOptions, shell } from 'electron';
import { ioError } from '../../shared/errors';
import type { PickKind } from '../services/api-methods';
import { reportProblem } from './report-path';

/** The native pickers; the model picker lists every format the registry opens (model.json, Keras, ONNX). */
export const DIALOGS: Record<PickKind, OpenDialogOptions> = {
  'dataset-file': {
    title: 'Open a dataset file',
    properties: ['openFile'],
    filters: [
      {
        name: 'Datasets (IDX, CIFAR binary, archives)',
        extensions: ['gz', 'idx', 'idx1-ubyte', 'idx3-ubyte', 'bin', 'tar', 'tgz'],
      },
      { name: 'All files', extensions: ['*'] },
    ],
  },
  'dataset-folder': { title: 'Open a dataset folder', properties: ['openDirectory'] },
  'model-file': {
    title: 'Open a model',
    properties: ['openFile'],
    filters: [
      {
        name: 'Models (model.json, Keras .h5, .keras, ONNX)',
        extensions: ['json', 'h5', 'hdf5', 'keras', 'onnx'],
      },
      { name: 'All files', extensions: ['*'] },
    ],
  },
  'model-folder': { title: 'Open a model folder', properties: ['openDirectory'] },
  'export-folder': { title: 'Choose where to export', properties: ['openDirectory', 'createDirectory'] },
};

export async function pickPath(window: BrowserWindow | undefined, kind: PickKind): Promise<string | null> {
  const options = DIALOGS[kind];
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

/** Open an exported report in the OS's browser or PDF viewer. */
export async function openReport(file: string): Promise<void> {
  const problem = await reportProblem(file);
  if (problem) throw ioError(file, problem);
  const failure = await shell.openPath(file);
  if (failure !== '') throw ioError(file, `could not open: ${failure}`);
}

/** Only an existing folder is handed to the OS: never a file (it would be opened or run). */
export async function openFolder(folder: string): Promise<void> {
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat) throw ioError(folder, 'not found');
  if (!stat.isDirectory()) throw ioError(folder, 'not a folder');
  const problem = await shell.openPath(folder);
  if (problem !== '') throw ioError(folder, `could not open: ${problem}`);
}
