import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArchitectureName } from '../../../shared/jobs';
import { encodeOnnxModel } from '../backend/onnx-model';
import { buildArchitecture } from '../model/architectures';
import { calibrateRanges } from './calibrate';
import { layersToOnnx } from './layers-to-onnx';
import { OnnxSession } from './ort-session';
import { quantizeGraph, quantizeWeightsPerChannel, quantizedActivations, uint8Params } from './quantize-qdq';

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) / 2 ** 24;
  });
}

/** How often each op type occurs in a serialized model (NodeProto.op_type is field 4: tag 0x22, length, name). */
function countOps(model: Buffer, ops: string[]): Record<string, number> {
  const text = model.toString('latin1');
  return Object.fromEntries(
    ops.map((op) => [op, text.split(`\x22${String.fromCharCode(op.length)}${op}`).length - 1]),
  );
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

describe('quantization parameters', () => {
  it('weights: symmetric int8 per output channel, scale max|w|/127', () => {
    const { values: q, scales } = quantizeWeightsPerChannel(Float32Array.of(0.5, -1, 0.25, 0, 0, 0), 2);
    expect(Array.from(scales)).toEqual([1 / 127, 1].map((v) => Math.fround(v)));
    expect(Array.from(q)).toEqual([64, -127, 32, 0, 0, 0]);
  });

  it('activations: uint8 ranges widened to hold zero exactly', () => {
    const relu = uint8Params({ min: 0, max: 5.1 });
    expect(relu.scale).toBeCloseTo(0.02, 12);
    expect(relu.zeroPoint).toBe(0);
    const positive = uint8Params({ min: 1, max: 2.55 });
    expect(positive.scale).toBeCloseTo(0.01, 12);
    expect(positive.zeroPoint).toBe(0);
    const p = uint8Params({ min: -1, max: 1.55 });
    expect(p.scale).toBeCloseTo(0.01, 12);
    expect(p.zeroPoint).toBe(100);
  });
});

describe.each(['vgg-small', 'resnet20', 'mobilenet-small'] as ArchitectureName[])('%s int8 QDQ', (arch) => {
  it('runs in ONNX Runtime and agrees with float32 on most samples', async () => {
    const shape = [16, 16, 3] as const;
    const classes = 5;
    const model = buildArchitecture(arch, shape, classes, 2);
    const exported = layersToOnnx(model);
    const dims = (n: number): number[] => [n, 3, 16, 16];
    const size = 3 * 16 * 16;
    const calibration = [0, 1].map((b) => ({ data: values(32 * size, 100 + b), dims: dims(32) }));
    const targets = quantizedActivations(exported.graph);
    const ranges = await calibrateRanges(exported.graph, targets, calibration);
    expect([...ranges.keys()]).toEqual(targets);
    const quantized = quantizeGraph(exported.graph, ranges);
    const count = (op: string): number => exported.graph.nodes.filter((n) => n.op === op).length;
    const convs = count('Conv') + count('Gemm');
    // All but the first convolution, which reads the 3-channel input and stays float.
    expect(quantized.quantizedNodes).toBe(convs - 1);
    expect(targets).not.toContain('input');
    expect(quantized.graph.nodes.filter((n) => n.op === 'QuantizeLinear').length).toBe(
      quantized.quantizedActivations,
    );
    // Weights are stored as int8: the file is about a quarter of the float one.
    const floatBytes = encodeOnnxModel(exported.graph);
    const int8Bytes = encodeOnnxModel(quantized.graph);
    expect(int8Bytes.length).toBeLessThan(floatBytes.length * 0.4);

    const test = values(64 * size, 7);
    const floatSession = await OnnxSession.create(floatBytes);
    const optimized = path.join(os.tmpdir(), `pollard-qdq-${arch}-${process.pid}.onnx`);
    const int8Session = await OnnxSession.create(int8Bytes, { optimizedModelPath: optimized });
    // ONNX Runtime fused every convolution but the first and every dense layer into integer kernels.
    const ops = countOps(await fs.readFile(optimized), ['QLinearConv', 'QGemm', 'Conv', 'Gemm', 'FusedConv']);
    await fs.rm(optimized, { force: true });
    expect(ops.QLinearConv).toBe(count('Conv') - 1);
    expect([ops.QGemm, ops.Gemm]).toEqual([count('Gemm'), 0]);
    expect(ops.Conv! + ops.FusedConv!).toBe(1);
    const [a] = await floatSession.run(test, dims(64));
    const [b] = await int8Session.run(test, dims(64));
    await floatSession.close();
    await int8Session.close();
    let agree = 0;
    for (let n = 0; n < 64; n++) {
      const rowA = a!.subarray(n * classes, (n + 1) * classes);
      const rowB = b!.subarray(n * classes, (n + 1) * classes);
      if (argmax(rowA) === argmax(rowB)) agree++;
    }
    expect(agree / 64).toBeGreaterThanOrEqual(0.9);
    model.dispose();
  });
});
