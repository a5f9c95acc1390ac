/**
 * Test fixture: an 8×8 three-class IDX dataset (a bright band in the top, middle or bottom rows)
 * and `sequentialCnn` trained on it for four epochs on the cpu backend, saved as a TF.js model.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { trainingOptionsSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { writeIdx } from '../data/idx-writer';
import { createMemoryContext } from '../job/context';
import { saveModel } from '../model/tfjs-layers-writer';
import { trainModel } from '../train/loop';
import { bands, sequentialCnn } from './test-models';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };

/** Writes `<root>/bands` (train samples, half as many test samples) and `<root>/model`. */
export async function writeBandsFixture(
  root: string,
  train: number,
): Promise<{ dataDir: string; modelDir: string }> {
  const dataDir = path.join(root, 'bands');
  await fs.mkdir(dataDir);
  await writeIdx(dataDir, 'train', bands(train, 1), [8, 8, 1]);
  await writeIdx(dataDir, 't10k', bands(train / 2, 2), [8, 8, 1]);
  await fs.writeFile(path.join(dataDir, 'classes.txt'), 'top\nmiddle\nbottom\n');
  const model = sequentialCnn();
  await trainModel(
    model,
    { train: bands(train, 3), shape: [8, 8, 1], classes: 3 },
    { training: trainingOptionsSchema.parse({ learningRate: 0.01 }), batchSize: 16, seed: 1, epochs: 4 },
    createMemoryContext(BACKEND),
  );
  const modelDir = path.join(root, 'model');
  await saveModel(model, modelDir, { metadata: { classNames: ['top', 'middle', 'bottom'] } });
  model.dispose();
  return { dataDir, modelDir };
}
