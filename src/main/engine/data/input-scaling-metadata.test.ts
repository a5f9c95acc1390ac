import { describe, expect, it } from 'vitest';
import { guessInputScaling } from './input-scaling-guess';

const conv = { name: 'conv', className: 'Conv2D', weighted: true };
const said = (key: string, value: string) =>
  guessInputScaling({ modelName: 'm', layers: [conv], metadata: { [key]: value } });

describe('guessInputScaling rule 3: metadata phrasing', () => {
  it.each([
    ['description', 'inputs normalized to [-1, 1]', 'symmetric'],
    ['preprocessing', 'mean/std imagenet', 'imagenet'],
    ['preprocessing', 'caffe', 'caffe'],
    ['input_range', '0-255', 'raw'],
    ['preprocessing', 'scaled to [0,1]', 'unit'],
    ['input_range', '[0, 255]', 'raw'],
    ['input_range', '0 .. 1', 'unit'],
    ['input_range', '[0.0, 1.0]', 'unit'],
    ['input_range', '(-1, 1)', 'symmetric'],
    ['input_range', '−1 … 1', 'symmetric'],
    ['normalization', 'x / 127.5 - 1', 'symmetric'],
    ['normalization', 'x/255', 'unit'],
    ['preprocessing', 'ImageNet normalization', 'imagenet'],
    ['image_mean', '[0.485, 0.456, 0.406]', 'imagenet'],
    ['preprocess_mode', 'tf', 'symmetric'],
    ['preprocess_mode', 'torch', 'imagenet'],
    ['mean', '[103.939, 116.779, 123.68]', 'caffe'],
    // A model trained on ImageNet may still take [−1, 1]: the range is the more precise word.
    ['notes', 'trained on ImageNet; inputs scaled to -1..1', 'symmetric'],
    ['preprocessing', 'pixels 0-255 divided by 255', 'unit'],
  ])('%s = "%s" → %s', (key, value, scaling) => {
    expect(said(key, value)).toEqual({ scaling, reason: `metadata ${key} = "${value}"` });
  });

  it.each([
    // Keys that do not name preprocessing count only where their text does.
    ['description', 'MobileNet trained on ImageNet'],
    ['author', 'written by 0-255 people'],
    ['input_range', '0 to 1.5'],
    ['input_range', '[10, 1]'],
    ['input_range', '-10 to 1'],
    ['input', 'built with tf.keras'],
  ])('%s = "%s" → nothing', (key, value) => {
    expect(said(key, value)).toBe(null);
  });
});
