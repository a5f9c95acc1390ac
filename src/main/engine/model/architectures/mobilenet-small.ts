/**
 * A small MobileNet (v1 style): a 3×3 stem convolution, five depthwise-separable blocks
 *   DepthwiseConv2D 3×3 (stride s) → BN → ReLU6 → pointwise Conv2D 1×1 → BN → ReLU6
 * with widths 32, 64, 64, 128, 128 (stride 2 in blocks 2 and 4), then one fused
 * SeparableConv2D 3×3 256 → BN → ReLU6 (so that layer kind is exercised too), global average
 * pooling and a dense softmax. The stem has stride 2 only for inputs of 64 pixels a side or
 * more, and a block keeps stride 1 once a side is under 4, so small inputs (28×28, 32×32)
 * keep enough resolution.
 */
import { tfl } from '../../tf';
import type { LayersModel } from '../../tf';
import type { InputShape } from './seeds';
import { LayerSeeds } from './seeds';

type Tensor = tfl.SymbolicTensor;

export const MOBILENET_SMALL_BLOCKS: readonly { filters: number; strides: 1 | 2 }[] = [
  { filters: 32, strides: 1 },
  { filters: 64, strides: 2 },
  { filters: 64, strides: 1 },
  { filters: 128, strides: 2 },
  { filters: 128, strides: 1 },
];

export function buildMobilenetSmall(inputShape: InputShape, classes: number, seed: number): LayersModel {
  const seeds = new LayerSeeds(seed);
  const bn = (name: string, x: Tensor): Tensor => tfl.layers.batchNormalization({ name }).apply(x) as Tensor;
  const relu6 = (name: string, x: Tensor): Tensor =>
    tfl.layers.reLU({ name, maxValue: 6 }).apply(x) as Tensor;
  const [height, width] = inputShape;
  const halve = (size: number, strides: number): number => Math.ceil(size / strides);

  const input = tfl.input({ name: 'input', shape: inputShape });
  const stemStrides = Math.min(height, width) >= 64 ? 2 : 1;
  let x = tfl.layers
    .conv2d({
      name: 'stem_conv',
      filters: 16,
      kernelSize: 3,
      strides: stemStrides,
      padding: 'same',
      useBias: false,
      kernelInitializer: seeds.heNormal(),
    })
    .apply(input) as Tensor;
  x = relu6('stem_relu', bn('stem_bn', x));
  let h = halve(height, stemStrides);
  let w = halve(width, stemStrides);
  MOBILENET_SMALL_BLOCKS.forEach(({ filters, strides: wanted }, i) => {
    const name = `block${i + 1}`;
    const strides = wanted === 2 && Math.min(h, w) >= 4 ? 2 : 1;
    x = tfl.layers
      .depthwiseConv2d({
        name: `${name}_dw`,
        kernelSize: 3,
        strides,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: seeds.heNormal(),
      })
      .apply(x) as Tensor;
    x = relu6(`${name}_dw_relu`, bn(`${name}_dw_bn`, x));
    x = tfl.layers
      .conv2d({
        name: `${name}_pw`,
        filters,
        kernelSize: 1,
        useBias: false,
        kernelInitializer: seeds.heNormal(),
      })
      .apply(x) as Tensor;
    x = relu6(`${name}_pw_relu`, bn(`${name}_pw_bn`, x));
    h = halve(h, strides);
    w = halve(w, strides);
  });
  x = tfl.layers
    .separableConv2d({
      name: 'sep_conv',
      filters: 256,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: seeds.heNormal(),
      pointwiseInitializer: seeds.heNormal(),
    })
    .apply(x) as Tensor;
  x = relu6('sep_relu', bn('sep_bn', x));
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Tensor;
  const output = tfl.layers
    .dense({
      name: 'logits',
      units: classes,
      activation: 'softmax',
      kernelInitializer: seeds.glorotUniform(),
    })
    .apply(pooled) as Tensor;
  return tfl.model({ name: 'mobilenet_small', inputs: input, outputs: output });
}
