import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import { measureModelFiles, measureModelFolder, modelSha256 } from './model-files';
import { readTfjsLayersModel } from './tfjs-layers-reader';
import { saveModel } from './tfjs-layers-writer';
import { fakeQuantize } from './weight-quantization';
import type { WeightQuantization } from './weight-quantization';

let root: string;
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-tfjs-io-'));
  // A tiny static server: stock tfjs loads over http with the global fetch.
  server = http.createServer((request, response) => {
    const file = path.join(root, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    fs.readFile(file).then(
      (data) => response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fs.rm(root, { recursive: true, force: true });
});

/** A small CNN with every weight drawn from a seeded RNG (BN statistics included). */
function makeCnn(seed: number): LayersModel {
  const model = tfl.sequential({
    name: 'cnn',
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', name: 'conv1' }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      tfl.layers.reLU({ name: 'relu1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 5, activation: 'softmax', name: 'logits' }),
    ],
  });
  randomizeWeights(model, seed);
  return model;
}

function randomizeWeights(model: LayersModel, seed: number): void {
  const rng = new Rng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const isVariance = w.originalName.endsWith('moving_variance');
    const data = Float32Array.from({ length: n }, () => (isVariance ? 0.5 + rng.next() : rng.next() - 0.5));
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

function sampleInput(seed: number, n = 6): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(
    Float32Array.from({ length: n * 8 * 8 * 2 }, () => rng.next()),
    [n, 8, 8, 2],
  );
}

function predict(model: LayersModel, x: tf.Tensor): Float32Array {
  const y = model.predict(x) as tf.Tensor;
  const data = y.dataSync() as Float32Array;
  y.dispose();
  return data;
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe('saveModel + readTfjsLayersModel round trip', () => {
  it('float32: identical predictions (bitwise), metadata and files', async () => {
    const model = makeCnn(1);
    const dir = path.join(root, 'f32');
    const metadata = {
      classNames: ['a', 'b', 'c', 'd', '<script>e</script>'],
      normalization: { scale: 2, offset: -1 },
      producedBy: { run: 'r1', method: 'train' },
    };
    const saved = await saveModel(model, dir, { metadata });
    expect(saved.files.map((f) => path.basename(f))).toEqual(['model.json', 'group1-shard1of1.bin']);
    expect(saved.weightBytes).toBe(model.countParams() * 4);
    expect(saved.weightDtypes).toEqual(['float32']);
    const onDisk = (await Promise.all(saved.files.map((f) => fs.stat(f)))).reduce((s, st) => s + st.size, 0);
    expect(saved.bytes).toBe(onDisk);

    const loaded = await readTfjsLayersModel(saved.modelJson);
    expect(loaded.format).toBe('tfjs-layers');
    expect(loaded.metadata).toEqual(metadata);
    expect(loaded.weightDtypes).toEqual(['float32']);
    expect(loaded.files.map((f) => path.basename(f))).toEqual(['model.json', 'group1-shard1of1.bin']);
    const x = sampleInput(2);
    expect(bitwiseEqual(predict(loaded.model, x), predict(model, x))).toBe(true);
    x.dispose();
    loaded.model.dispose();
    model.dispose();
  });

  it('splits weights into shards named like the converter, and reads them back', async () => {
    const model = makeCnn(3);
    const saved = await saveModel(model, path.join(root, 'sharded'), { shardBytes: 100 });
    const shardCount = Math.ceil((model.countParams() * 4) / 100);
    expect(saved.files.length).toBe(1 + shardCount);
    expect(path.basename(saved.files[1]!)).toBe(`group1-shard1of${shardCount}.bin`);
    expect((await fs.stat(saved.files[1]!)).size).toBe(100);
    const loaded = await readTfjsLayersModel(saved.modelJson);
    const x = sampleInput(4);
    expect(bitwiseEqual(predict(loaded.model, x), predict(model, x))).toBe(true);
    x.dispose();
    loaded.model.dispose();
    model.dispose();
  });

  it.each(['float16', 'uint16', 'uint8'] as const)(
    '%s: predictions equal a reference dequantization and stay close to float32',
    async (dtype: WeightQuantization) => {
      const model = makeCnn(5);
      const saved = await saveModel(model, path.join(root, dtype), { quantize: dtype });
      const bytesPerValue = dtype === 'uint8' ? 1 : 2;
      expect(saved.weightBytes).toBe(model.countParams() * bytesPerValue);
      expect(saved.weightDtypes).toEqual([dtype]);
      const loaded = await readTfjsLayersModel(saved.modelJson);
      expect(loaded.weightDtypes).toEqual([dtype]);

      // Reference: the float model with every weight replaced by its predicted dequantization.
      const reference = makeCnn(5);
      const fake = reference.weights.map((w) => {
        const values = w.read().dataSync() as Float32Array;
        return tf.tensor(fakeQuantize(values, dtype), w.shape as number[]);
      });
      reference.setWeights(fake);
      tf.dispose(fake);

      const x = sampleInput(6, 32);
      const quantized = predict(loaded.model, x);
      expect(bitwiseEqual(quantized, predict(reference, x))).toBe(true);
      const float = predict(model, x);
      const maxDiff = Math.max(...Array.from(quantized, (v, i) => Math.abs(v - float[i]!)));
      const bound = dtype === 'uint8' ? 0.05 : dtype === 'uint16' ? 1e-3 : 5e-3;
      expect(maxDiff).toBeLessThan(bound);
      const argmax = (p: Float32Array, i: number): number => {
        const row = Array.from(p.subarray(i * 5, i * 5 + 5));
        return row.indexOf(Math.max(...row));
      };
      const agree = Array.from({ length: 32 }, (_, i) => argmax(quantized, i) === argmax(float, i)).filter(
        Boolean,
      ).length;
      expect(agree).toBeGreaterThanOrEqual(dtype === 'uint8' ? 30 : 32);
      x.dispose();
      for (const m of [loaded.model, reference, model]) m.dispose();
    },
  );

  it('keeps a SeparableConv2D depth multiplier that tfjs getConfig drops', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.separableConv2d({
          name: 'sep',
          inputShape: [8, 8, 2],
          filters: 3,
          kernelSize: 3,
          depthMultiplier: 2,
        }),
        tfl.layers.flatten({ name: 'flatten' }),
        tfl.layers.dense({ name: 'out', units: 5 }),
      ],
    });
    randomizeWeights(model, 14);
    const saved = await saveModel(model, path.join(root, 'separable'));
    const loaded = await readTfjsLayersModel(saved.modelJson);
    const x = sampleInput(15);
    expect(bitwiseEqual(predict(loaded.model, x), predict(model, x))).toBe(true);
    x.dispose();
    loaded.model.dispose();
    model.dispose();
  });

  it('stock tf.loadLayersModel over http reads float32 and uint8 exports and predicts what Pollard does', async () => {
    const model = makeCnn(7);
    const x = sampleInput(8);
    for (const quantize of [undefined, 'uint8'] as const) {
      const name = `http-${quantize ?? 'f32'}`;
      const saved = await saveModel(model, path.join(root, name), { quantize, shardBytes: 256 });
      const stock = await tfl.loadLayersModel(`${baseUrl}/${name}/model.json`);
      const ours = await readTfjsLayersModel(saved.modelJson);
      const stockPrediction = predict(stock, x);
      expect(bitwiseEqual(stockPrediction, predict(ours.model, x))).toBe(true);
      if (quantize === undefined) expect(bitwiseEqual(stockPrediction, predict(model, x))).toBe(true);
      stock.dispose();
      ours.model.dispose();
    }
    x.dispose();
    model.dispose();
  });

  it('refuses to write a model with a layer the reader would refuse, leaving nothing behind', async () => {
    const a = tfl.input({ shape: [3], name: 'a' });
    const b = tfl.input({ shape: [3], name: 'b' });
    const dot = tfl.layers.dot({ axes: 1, name: 'dot' }).apply([a, b]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: [a, b], outputs: dot });
    const dir = path.join(root, 'dot');
    await expect(saveModel(model, dir)).rejects.toThrow(
      `${dir}: unsupported layer "dot" (class_name "Dot"): Dot layers are not supported yet`,
    );
    await expect(fs.stat(dir)).rejects.toThrow();
    model.dispose();
  });

  it('replaces an existing folder atomically, leaving no temporary folders behind', async () => {
    const dir = path.join(root, 'replace');
    const a = makeCnn(9);
    await saveModel(a, dir, { shardBytes: 64 });
    const b = makeCnn(10);
    const saved = await saveModel(b, dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect((await fs.readdir(root)).filter((n) => n.startsWith('.replace'))).toEqual([]);
    const loaded = await readTfjsLayersModel(saved.modelJson);
    const x = sampleInput(11);
    expect(bitwiseEqual(predict(loaded.model, x), predict(b, x))).toBe(true);
    x.dispose();
    for (const m of [a, b, loaded.model]) m.dispose();
  });
});

describe('model files: sizes and SHA-256', () => {
  it('measures raw and gzipped sizes, and uint8 is about 4x smaller than float32', async () => {
    const model = makeCnn(12);
    const f32 = await saveModel(model, path.join(root, 'size-f32'));
    const u8 = await saveModel(model, path.join(root, 'size-u8'), { quantize: 'uint8' });
    const sizes = await measureModelFolder(f32.dir);
    expect(sizes.bytes).toBe(f32.bytes);
    expect(sizes.gzipBytes).toBeGreaterThan(0);
    expect(sizes.gzipBytes).toBeLessThan(sizes.bytes);
    expect(await measureModelFiles(f32.files)).toEqual(sizes);
    expect(f32.weightBytes / u8.weightBytes).toBe(4);
    model.dispose();
  });

  it('hashes the same stored model to the same value in any folder and any file order', async () => {
    const model = makeCnn(13);
    const a = await saveModel(model, path.join(root, 'sha-a'), { shardBytes: 128 });
    const b = await saveModel(model, path.join(root, 'sha-b'), { shardBytes: 128 });
    const hashA = await modelSha256(a.files);
    expect(hashA).toMatch(/^[0-9a-f]{64}$/);
    expect(await modelSha256([...b.files].reverse())).toBe(hashA);
    const shard = a.files[1]!;
    const bytes = await fs.readFile(shard);
    bytes[0] = bytes[0]! ^ 1;
    await fs.writeFile(shard, bytes);
    expect(await modelSha256(a.files)).not.toBe(hashA);
    model.dispose();
  });
});
