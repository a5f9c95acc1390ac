import path from 'node:path';
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeOnnxModel } from '../../backend/onnx-model';
import { applyPrunePlan, planPruning } from '../../compress/pruner';
import { openModel } from '../../model/registry';
import { tf } from '../../tf';
import { layersToOnnx } from '../layers-to-onnx';
import { OnnxSession } from '../ort-session';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');

describe('ONNX round trip', () => {
  it('imports the ResNet, prunes ≥40% of its MACs, exports to ONNX and ONNX Runtime matches TF.js', async () => {
    const loaded = await openModel(path.join(FIXTURES, 'resnet.onnx'));
    const plan = await planPruning(loaded.model, {
      criterion: 'l1',
      scope: 'layer',
      target: { metric: 'macs', fraction: 0.4 },
    });
    expect(plan.totals.macsAfter).toBeLessThanOrEqual(plan.totals.macsBefore * 0.6);
    const pruned = await applyPrunePlan(loaded.model, plan);
    const expected = JSON.parse(await fs.readFile(path.join(FIXTURES, 'resnet.json'), 'utf8')) as {
      inputShape: number[];
      input: number[];
    };
    const nchw = Float32Array.from(expected.input);
    const x = tf.transpose(
      tf.tensor4d(nchw, expected.inputShape as [number, number, number, number]),
      [0, 2, 3, 1],
    );
    const tfLogits = (pruned.predict(x) as tf.Tensor).dataSync();
    const exported = layersToOnnx(pruned, { layout: 'nchw' });
    expect(exported.inputShape).toEqual([3, 16, 16]);
    const session = await OnnxSession.create(encodeOnnxModel(exported.graph));
    const [ortLogits] = await session.run(nchw, expected.inputShape);
    await session.close();
    expect(ortLogits?.length).toBe(20);
    let maxDiff = 0;
    tfLogits.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (ortLogits?.[i] ?? NaN)))));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

describe('ONNX round trip through squeeze-excite and HardSwish', () => {
  it('the MobileNetV3-style fixture pruned ≥30% of MACs exports to ONNX and ONNX Runtime matches TF.js', async () => {
    const loaded = await openModel(path.join(FIXTURES, 'mobilenetv3.onnx'));
    const plan = await planPruning(loaded.model, {
      criterion: 'l1',
      scope: 'layer',
      target: { metric: 'macs', fraction: 0.3 },
    });
    expect([plan.totals.macsBefore, plan.totals.macsAfter]).toEqual([42296, 25708]);
    const pruned = await applyPrunePlan(loaded.model, plan);
    const expected = JSON.parse(await fs.readFile(path.join(FIXTURES, 'mobilenetv3.json'), 'utf8')) as {
      inputShape: [number, number, number, number];
      input: number[];
    };
    const nchw = Float32Array.from(expected.input);
    const x = tf.transpose(tf.tensor4d(nchw, expected.inputShape), [0, 2, 3, 1]);
    const tfLogits = (pruned.predict(x) as tf.Tensor).dataSync();
    const session = await OnnxSession.create(encodeOnnxModel(layersToOnnx(pruned).graph));
    const [ortLogits] = await session.run(nchw, expected.inputShape);
    await session.close();
    let maxDiff = 0;
    tfLogits.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (ortLogits?.[i] ?? NaN)))));
    expect(ortLogits?.length).toBe(20);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
