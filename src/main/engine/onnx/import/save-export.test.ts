import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeOnnxModel } from '../../backend/onnx-model';
import { saveKerasH5 } from '../../model/keras/export-h5';
import { openModel } from '../../model/registry';
import { saveModel } from '../../model/tfjs-layers-writer';
import { tf, type LayersModel } from '../../tf';
import { layersToOnnx } from '../layers-to-onnx';
import { OnnxSession } from '../ort-session';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');
const dirs: string[] = [];

interface Expected {
  inputShape: [number, number, number, number];
  input: number[];
  logits: number[][];
}

async function expected(name: string): Promise<Expected> {
  return JSON.parse(await fs.readFile(path.join(FIXTURES, `${name}.json`), 'utf8')) as Expected;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function predict(model: LayersModel, e: Expected): Float32Array {
  const x = tf.transpose(tf.tensor4d(e.input, e.inputShape), [0, 2, 3, 1]);
  return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
}

afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('imported HardSwish / squeeze-excite / MatMul models save, reload and export', () => {
  for (const name of ['mobilenetv3', 'matmul']) {
    it(`${name}: TF.js folder and Keras .h5 reload with the same predictions; ONNX export matches PyTorch`, async () => {
      const e = await expected(name);
      const loaded = await openModel(path.join(FIXTURES, `${name}.onnx`));
      const reference = predict(loaded.model, e);
      expect(maxDiff(reference, e.logits.flat())).toBeLessThan(1e-4);

      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-onnx-save-'));
      dirs.push(dir);
      await saveModel(loaded.model, path.join(dir, 'tfjs'));
      const tfjs = await openModel(path.join(dir, 'tfjs'));
      expect(maxDiff(predict(tfjs.model, e), reference)).toBe(0);
      await saveKerasH5(loaded.model, path.join(dir, 'model.h5'));
      const h5 = await openModel(path.join(dir, 'model.h5'));
      expect(maxDiff(predict(h5.model, e), reference)).toBe(0);

      const exported = layersToOnnx(loaded.model, { layout: 'nchw' });
      const session = await OnnxSession.create(encodeOnnxModel(exported.graph));
      const [logits] = await session.run(Float32Array.from(e.input), e.inputShape);
      await session.close();
      expect(maxDiff(logits ?? [], e.logits.flat())).toBeLessThan(1e-4);
    });
  }
});
