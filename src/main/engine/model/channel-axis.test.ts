import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencyGraph } from '../compress/graph';
import { prepareCompressionData } from '../compress/job-data';
import { tf, tfl } from '../tf';
import { SAMPLE_DATASET } from '../../util/paths';
import { lacksChannelAxis } from './channel-axis';
import { openModel } from './registry';
import { saveModel } from './tfjs-layers-writer';

let root: string;

/** A common Keras MNIST model: a 28×28 input with no channel axis, then Reshape. */
function mnistWithReshape(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.reshape({ targetShape: [28, 28, 1], inputShape: [28, 28], name: 'reshape' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 10, activation: 'softmax', name: 'classifier' }),
    ],
  });
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-channel-axis-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('an [H, W] input', () => {
  it('takes H×W×1 images with the same outputs, and the pruner does not flag its Reshape', async () => {
    const original = mnistWithReshape();
    const dir = path.join(root, 'mnist');
    await saveModel(original, dir);
    const x = tf.randomUniform([3, 28, 28], 0, 1, 'float32', 7);
    const expected = (original.predict(x) as tf.Tensor).dataSync();

    const loaded = await openModel(dir);
    expect(loaded.model.inputs[0]!.shape).toEqual([null, 28, 28, 1]);
    const actual = (loaded.model.predict(tf.reshape(x, [3, 28, 28, 1])) as tf.Tensor).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-6);

    const data = await prepareCompressionData(SAMPLE_DATASET, loaded.model, {
      limit: 100,
      validationSplit: 0.1,
      seed: 1,
    });
    expect(data.shape).toEqual([28, 28, 1]);
    expect(data.evaluation.count).toBe(100);
    expect(buildDependencyGraph(loaded.model).unsupported).toEqual([]);
    loaded.model.dispose();
    original.dispose();
    x.dispose();
  });

  it('is left alone when a layer other than Reshape or Flatten reads it', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ units: 4, inputShape: [28, 28] }), tfl.layers.flatten()],
    });
    expect(lacksChannelAxis(model)).toBe(false);
    expect(lacksChannelAxis(mnistWithReshape())).toBe(true);
  });
});
