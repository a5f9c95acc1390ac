/**
 * LeNet-5 style CNN, the demo model (fast to train):
 * conv 6@5×5 same + ReLU, max-pool 2; conv 16@5×5 valid + ReLU, max-pool 2; flatten;
 * dense 120 ReLU; dense 84 ReLU; dense `classes` softmax.
 * Tiny inputs: conv2 switches to `same` padding when its input is under 5×5, and a pool is
 * skipped where a side is already 1, so any input of at least 1×1 builds.
 */
import { tfl } from '../../tf';
import type { LayersModel } from '../../tf';
import type { InputShape } from './seeds';
import { LayerSeeds } from './seeds';

export function buildLenet(inputShape: InputShape, classes: number, seed: number): LayersModel {
  const seeds = new LayerSeeds(seed);
  const [height, width] = inputShape;
  const model = tfl.sequential({ name: 'lenet' });
  model.add(
    tfl.layers.conv2d({
      name: 'conv1',
      inputShape,
      filters: 6,
      kernelSize: 5,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: seeds.heNormal(),
    }),
  );
  let h = height;
  let w = width;
  const pool = (name: string): void => {
    const ph = h >= 2 ? 2 : 1;
    const pw = w >= 2 ? 2 : 1;
    if (ph === 1 && pw === 1) return;
    model.add(tfl.layers.maxPooling2d({ name, poolSize: [ph, pw], strides: [ph, pw] }));
    h = Math.floor(h / ph);
    w = Math.floor(w / pw);
  };
  pool('pool1');
  const valid = h >= 5 && w >= 5;
  model.add(
    tfl.layers.conv2d({
      name: 'conv2',
      filters: 16,
      kernelSize: 5,
      padding: valid ? 'valid' : 'same',
      activation: 'relu',
      kernelInitializer: seeds.heNormal(),
    }),
  );
  if (valid) {
    h -= 4;
    w -= 4;
  }
  pool('pool2');
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(
    tfl.layers.dense({ name: 'fc1', units: 120, activation: 'relu', kernelInitializer: seeds.heNormal() }),
  );
  model.add(
    tfl.layers.dense({ name: 'fc2', units: 84, activation: 'relu', kernelInitializer: seeds.heNormal() }),
  );
  model.add(
    tfl.layers.dense({
      name: 'logits',
      units: classes,
      activation: 'softmax',
      kernelInitializer: seeds.glorotUniform(),
    }),
  );
  return model;
}
