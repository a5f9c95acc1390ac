import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../model/registry';
import { tf } from '../../tf';

const ROOT = path.join(__dirname, '../../../../..');
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasTorch)('ONNX fixtures regenerated live with PyTorch', () => {
  it('scripts/make-onnx-fixtures.py writes models that import and match PyTorch within 1e-4', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-onnx-live-'));
    execFileSync(PYTHON, [path.join(ROOT, 'scripts/make-onnx-fixtures.py'), dir], { stdio: 'ignore' });
    for (const name of [
      'resnet',
      'mobilenetv2',
      'firenet',
      'plain-view',
      'plain-flatten',
      'mobilenetv3',
      'matmul',
      'resnet-stem',
      'pools',
    ]) {
      const loaded = await openModel(path.join(dir, `${name}.onnx`));
      const expected = JSON.parse(await fs.readFile(path.join(dir, `${name}.json`), 'utf8')) as {
        inputShape: [number, number, number, number];
        input: number[];
        logits: number[][];
      };
      const x = tf.transpose(tf.tensor4d(expected.input, expected.inputShape), [0, 2, 3, 1]);
      const y = loaded.model.predict(x) as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(y, tf.tensor2d(expected.logits)))).dataSync()[0] ?? Infinity;
      expect(diff).toBeLessThan(1e-4);
    }
    await fs.rm(dir, { recursive: true });
  }, 60_000);
});
