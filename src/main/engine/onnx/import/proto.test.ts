import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel } from './proto';
import { floatValues, loadExternal } from './tensor-data';
import { bytes, int, varint } from './wire-test-helpers';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');

const modelWithTensor = (tensor: number[]): Uint8Array => Uint8Array.from(bytes(7, bytes(5, tensor)));

describe('ONNX protobuf reader', () => {
  it('reads the torch-exported ResNet fixture: opset, nodes, initializers, inputs', async () => {
    const file = path.join(FIXTURES, 'resnet.onnx');
    const model = decodeModel(new Uint8Array(await fs.readFile(file)), file);
    expect(model.opsetVersion).toBe(13);
    expect(model.producerName).toBe('pytorch');
    const ops = new Set(model.graph.nodes.map((n) => n.opType));
    expect([...ops].sort()).toEqual([
      'Add',
      'BatchNormalization',
      'Conv',
      'Flatten',
      'Gemm',
      'GlobalAveragePool',
      'Relu',
    ]);
    expect(model.graph.inputs[0]).toEqual({ name: 'input', elemType: 1, shape: [-1, 3, 16, 16] });
    expect(model.graph.outputs[0]?.shape).toEqual([-1, 10]);
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv');
    expect(conv?.attributes.get('kernel_shape')?.ints).toEqual([3, 3]);
    expect(conv?.attributes.get('pads')?.ints).toEqual([1, 1, 1, 1]);
    const fc = model.graph.initializers.find((t) => t.name === 'fc.weight');
    expect(fc?.dims).toEqual([10, 32]);
    expect(floatValues(fc!, file).length).toBe(320);
  });

  it('refuses a truncated file with the file named', async () => {
    const file = path.join(FIXTURES, 'resnet.onnx');
    const whole = new Uint8Array(await fs.readFile(file));
    expect(whole.length).toBe(85865);
    expect(() => decodeModel(whole.subarray(0, 1000), 'cut.onnx')).toThrow(
      `cut.onnx: truncated or corrupt ONNX file: model: a field declares 85838 bytes but only 977 remain`,
    );
  });

  it('refuses a tensor whose dims declare more than its bytes, before reading it', () => {
    const tensor = [
      ...bytes(1, [2, 3]),
      ...int(2, 1),
      ...bytes(8, 'w'),
      ...bytes(9, [0, 0, 0, 0, 0, 0, 0, 0]),
    ];
    expect(() => decodeModel(modelWithTensor(tensor), 'bad.onnx')).toThrow(
      'bad.onnx: tensor "w" declares dims [2, 3] (24 bytes) but holds 8 bytes',
    );
    const huge = [...bytes(1, [...varint(1 << 20), ...varint(1 << 20)]), ...int(2, 1), ...bytes(8, 'big')];
    expect(() => decodeModel(modelWithTensor(huge), 'big.onnx')).toThrow(
      'big.onnx: tensor "big" declares dims [1048576, 1048576], more than 268435456 elements',
    );
  });

  it('refuses external data outside the model folder and reads it beside the model', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-onnx-'));
    const modelFile = path.join(dir, 'm.onnx');
    const external = (location: string): number[] => [
      ...bytes(1, [2]),
      ...int(2, 1),
      ...bytes(8, 'w'),
      ...bytes(13, [...bytes(1, 'location'), ...bytes(2, location)]),
      ...int(14, 1),
    ];
    const decode = (location: string) => decodeModel(modelWithTensor(external(location)), modelFile);
    const outside = decode('../w.bin').graph.initializers[0]!;
    await expect(loadExternal(outside, modelFile)).rejects.toThrow(
      `${modelFile}: tensor "w" external data "../w.bin" must be a file beside the model (no absolute path, no "..")`,
    );
    await fs.writeFile(path.join(dir, 'w.bin'), Buffer.from(new Float32Array([1.5, -2]).buffer));
    const beside = decode('w.bin').graph.initializers[0]!;
    await loadExternal(beside, modelFile);
    expect([...floatValues(beside, modelFile)]).toEqual([1.5, -2]);
    await fs.symlink('/etc/hostname', path.join(dir, 'link.bin'));
    await expect(loadExternal(decode('link.bin').graph.initializers[0]!, modelFile)).rejects.toThrow(
      `${modelFile}: tensor "w" external data "link.bin" resolves outside the model's folder`,
    );
    await fs.rm(dir, { recursive: true });
  });
});
