import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../../../../shared/jobs';
import type { ArchitectureName } from '../../../../shared/jobs';
import { tf } from '../../tf';
import type { LayersModel } from '../../tf';
import { readTfjsLayersModel } from '../tfjs-layers-reader';
import { saveModel } from '../tfjs-layers-writer';
import { buildArchitecture } from './index';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-arch-'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function ramp(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000),
    shape,
  );
}

function predict(model: LayersModel, x: tf.Tensor): Float32Array {
  const y = model.predict(x) as tf.Tensor;
  const data = y.dataSync() as Float32Array;
  y.dispose();
  return data;
}

function weightsOf(model: LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync() as Float32Array);
}

describe.each(ARCHITECTURES)('%s', (name: ArchitectureName) => {
  it.each([
    [[28, 28, 1], 10],
    [[32, 32, 3], 100],
    [[5, 7, 2], 3],
    [[1, 1, 1], 2],
  ] as [[number, number, number], number][])(
    'builds for input %j with %i classes, softmax output',
    (shape, classes) => {
      const model = buildArchitecture(name, shape, classes, 1);
      expect(model.inputs[0]!.shape).toEqual([null, ...shape]);
      expect(model.outputs[0]!.shape).toEqual([null, classes]);
      const x = ramp([2, ...shape]);
      const y = predict(model, x);
      for (let i = 0; i < 2; i++) {
        const row = y.subarray(i * classes, (i + 1) * classes);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(Math.min(...row)).toBeGreaterThanOrEqual(0);
      }
      x.dispose();
      model.dispose();
    },
  );

  it('initialises deterministically from the seed', () => {
    const a = buildArchitecture(name, [28, 28, 1], 10, 7);
    const b = buildArchitecture(name, [28, 28, 1], 10, 7);
    const c = buildArchitecture(name, [28, 28, 1], 10, 8);
    const wa = weightsOf(a);
    const wb = weightsOf(b);
    const wc = weightsOf(c);
    expect(wa.length).toBe(wb.length);
    wa.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(wb[i]!.buffer))).toBe(true));
    // Kernels differ for another seed (BN weights are constant ones/zeros either way).
    expect(Buffer.from(wa[0]!.buffer).equals(Buffer.from(wc[0]!.buffer))).toBe(false);
    for (const m of [a, b, c]) m.dispose();
  });

  it('saves and reloads through Pollard reader with identical predictions', async () => {
    const model = buildArchitecture(name, [12, 12, 3], 4, 3);
    const saved = await saveModel(model, path.join(root, name));
    const loaded = await readTfjsLayersModel(saved.modelJson);
    const x = ramp([2, 12, 12, 3]);
    expect(Buffer.from(predict(loaded.model, x).buffer).equals(Buffer.from(predict(model, x).buffer))).toBe(
      true,
    );
    x.dispose();
    loaded.model.dispose();
    model.dispose();
  });
});

describe('layer names and structure', () => {
  it('lenet: the LeNet-5 layout with meaningful names', () => {
    const model = buildArchitecture('lenet', [28, 28, 1], 10);
    expect(model.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual([
      'conv1:Conv2D',
      'pool1:MaxPooling2D',
      'conv2:Conv2D',
      'pool2:MaxPooling2D',
      'flatten:Flatten',
      'fc1:Dense',
      'fc2:Dense',
      'logits:Dense',
    ]);
    expect(model.getLayer('conv2').outputShape).toEqual([null, 10, 10, 16]);
    model.dispose();
  });

  it('vgg-small: three blocks of two conv-BN-ReLU, flatten on 28x28, GAP on 64x64', () => {
    const small = buildArchitecture('vgg-small', [28, 28, 1], 10);
    const convs = small.layers
      .filter((l) => l.getClassName() === 'Conv2D')
      .map((l) => `${l.name}:${(l.getConfig() as { filters: number }).filters}`);
    expect(convs).toEqual([
      'block1_conv1:32',
      'block1_conv2:32',
      'block2_conv1:64',
      'block2_conv2:64',
      'block3_conv1:128',
      'block3_conv2:128',
    ]);
    expect(small.getLayer('flatten').outputShape).toEqual([null, 3 * 3 * 128]);
    small.dispose();
    const large = buildArchitecture('vgg-small', [64, 64, 3], 10);
    expect(large.layers.some((l) => l.name === 'gap')).toBe(true);
    large.dispose();
  });

  it('resnet20: 19 convolutions plus 2 projection shortcuts, 9 residual adds', () => {
    const model = buildArchitecture('resnet20', [32, 32, 3], 10);
    const names = model.layers.map((l) => l.name);
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
    expect(convs.length).toBe(21);
    expect(model.layers.filter((l) => l.getClassName() === 'Add').length).toBe(9);
    expect(names).toContain('block1_1_conv1');
    expect(names).toContain('block3_3_add');
    expect(names.filter((n) => n.includes('shortcut_conv'))).toEqual([
      'block2_1_shortcut_conv',
      'block3_1_shortcut_conv',
    ]);
    expect(model.getLayer('block3_3_relu2').outputShape).toEqual([null, 8, 8, 64]);
    model.dispose();
  });

  it('mobilenet-small: depthwise-separable blocks and one SeparableConv2D', () => {
    const model = buildArchitecture('mobilenet-small', [32, 32, 3], 10);
    const classes = model.layers.map((l) => l.getClassName());
    expect(classes.filter((c) => c === 'DepthwiseConv2D').length).toBe(5);
    expect(classes.filter((c) => c === 'SeparableConv2D').length).toBe(1);
    expect(model.getLayer('block2_dw').outputShape).toEqual([null, 16, 16, 32]);
    expect(model.getLayer('sep_conv').outputShape).toEqual([null, 8, 8, 256]);
    expect((model.getLayer('block1_dw_relu').getConfig() as { maxValue: number }).maxValue).toBe(6);
    model.dispose();
  });
});

describe('argument checks', () => {
  it('refuses unknown names, bad shapes and bad class counts', () => {
    expect(() => buildArchitecture('alexnet' as ArchitectureName, [28, 28, 1], 10)).toThrow(
      'unknown architecture "alexnet"; choose one of lenet, vgg-small, resnet20, mobilenet-small',
    );
    expect(() => buildArchitecture('lenet', [28, 28], 10)).toThrow(
      'lenet: input shape must be [height, width, channels] with sides 1..4096 and 1..64 channels, got [28, 28]',
    );
    expect(() => buildArchitecture('lenet', [28, 0, 1], 10)).toThrow('lenet: input shape must be');
    expect(() => buildArchitecture('lenet', [28, 28, 1], 1)).toThrow(
      'lenet: classes must be an integer from 2 to 100000, got 1',
    );
    expect(() => buildArchitecture('lenet', [28, 28, 1], 2.5)).toThrow('lenet: classes must be an integer');
  });
});
