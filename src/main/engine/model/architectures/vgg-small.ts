/**
 * A small VGG with batch normalisation:
 *   block1: [conv 3×3 32 → BN → ReLU] ×2, max-pool 2
 *   block2: [conv 3×3 64 → BN → ReLU] ×2, max-pool 2
 *   block3: [conv 3×3 128 → BN → ReLU] ×2, max-pool 2
 *   flatten (GAP when more than 4×4 positions remain), dense 128 ReLU, dropout 0.5, dense softmax.
 * Convolutions have no bias (the BN shift replaces it). On 28×28×1 (Fashion-MNIST) it has
 * 436,650 parameters and 29.3 M MACs, 74% of them in the second convolution of each block:
 * wide enough to prune half of its MACs. Flatten keeps the 3×3 spatial detail that helps on
 * 28×28 images; GAP keeps the classifier small for large inputs.
 */
import { tfl } from '../../tf';
import type { LayersModel } from '../../tf';
import type { InputShape } from './seeds';
import { LayerSeeds } from './seeds';

export const VGG_SMALL_WIDTHS = [32, 64, 128] as const;

export function buildVggSmall(inputShape: InputShape, classes: number, seed: number): LayersModel {
  const seeds = new LayerSeeds(seed);
  const model = tfl.sequential({ name: 'vgg_small' });
  let [h, w] = inputShape;
  VGG_SMALL_WIDTHS.forEach((filters, b) => {
    const block = `block${b + 1}`;
    for (let c = 1; c <= 2; c++) {
      model.add(
        tfl.layers.conv2d({
          name: `${block}_conv${c}`,
          ...(b === 0 && c === 1 ? { inputShape } : {}),
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: seeds.heNormal(),
        }),
      );
      model.add(tfl.layers.batchNormalization({ name: `${block}_bn${c}` }));
      model.add(tfl.layers.reLU({ name: `${block}_relu${c}` }));
    }
    const ph = h >= 2 ? 2 : 1;
    const pw = w >= 2 ? 2 : 1;
    if (ph > 1 || pw > 1) {
      model.add(tfl.layers.maxPooling2d({ name: `${block}_pool`, poolSize: [ph, pw], strides: [ph, pw] }));
      h = Math.floor(h / ph);
      w = Math.floor(w / pw);
    }
  });
  if (h * w <= 16) model.add(tfl.layers.flatten({ name: 'flatten' }));
  else model.add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
  model.add(
    tfl.layers.dense({ name: 'fc1', units: 128, activation: 'relu', kernelInitializer: seeds.heNormal() }),
  );
  model.add(tfl.layers.dropout({ name: 'dropout', rate: 0.5, seed: seeds.next() }));
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
