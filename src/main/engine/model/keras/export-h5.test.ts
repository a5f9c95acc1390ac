import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollardError } from '../../../../shared/errors';
import { tf, tfl, type LayersModel } from '../../tf';
import { saveKerasH5 } from './export-h5';
import { openKerasH5 } from './import-h5';
import { makeTempDir } from './test-fixtures';

/** A small CNN with a residual Add, BatchNormalization and a Concatenate: most weight kinds. */
function buildModel(): LayersModel {
  const input = tfl.input({ shape: [8, 8, 2], name: 'image' });
  const conv = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      name: 'conv',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv) as tfl.SymbolicTensor;
  const sep = tfl.layers
    .separableConv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      name: 'sep',
      depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      pointwiseInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
    })
    .apply(bn) as tfl.SymbolicTensor;
  const added = tfl.layers.add({ name: 'residual' }).apply([bn, sep]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(added) as tfl.SymbolicTensor;
  const side = tfl.layers.globalMaxPooling2d({ name: 'gmp' }).apply(conv) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate({ name: 'join' }).apply([pooled, side]) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({
      units: 3,
      activation: 'softmax',
      name: 'head',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
    })
    .apply(joined) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: 'small_cnn' });
  // Non-trivial batch-norm statistics, so a swapped mean/variance would change the output.
  const bnLayer = model.getLayer('bn');
  bnLayer.setWeights([
    tf.tensor1d([1.5, 0.5, 1, 2]),
    tf.tensor1d([0.1, -0.2, 0.3, 0]),
    tf.tensor1d([0.2, -0.1, 0, 0.4]),
    tf.tensor1d([0.5, 2, 1, 1.5]),
  ]);
  return model;
}

function fixedInput(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, (_, i) => Math.sin(i * 1.7) * 0.5 + 0.5),
    shape,
  );
}

async function predict(model: LayersModel, input: tf.Tensor): Promise<Float32Array> {
  const output = model.predict(input) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  output.dispose();
  return values;
}

/** A Python that has h5py: Debian's python3-h5py installs for /usr/bin/python3. */
function findPythonWithH5py(): string | undefined {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const result = spawnSync(candidate, ['-c', 'import h5py'], { stdio: 'ignore' });
    if (result.status === 0) return candidate;
  }
  return undefined;
}

/** Reads the exported file with h5py and prints what Keras's own loader would look at. */
const H5PY_SCRIPT = `
import sys, json, h5py
f = h5py.File(sys.argv[1], 'r')
def text(v):
    return v.decode('utf8') if isinstance(v, bytes) else str(v)
out = {
    'keras_version': text(f.attrs['keras_version']),
    'backend': text(f.attrs['backend']),
    'model_class': json.loads(text(f.attrs['model_config']))['class_name'],
    'config_layers': [l['config']['name'] for l in json.loads(text(f.attrs['model_config']))['config']['layers']],
    'layer_names': [text(n) for n in f['model_weights'].attrs['layer_names']],
    'weights': {},
}
for name in out['layer_names']:
    g = f['model_weights'][name]
    out['weights'][name] = [[text(w), list(g[text(w)].shape), str(g[text(w)].dtype)] for w in g.attrs['weight_names']]
print(json.dumps(out))
`;

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('saveKerasH5', () => {
  it('writes a file Pollard reads back with identical predictions', async () => {
    const model = buildModel();
    const file = path.join(dir, 'small_cnn.h5');
    await saveKerasH5(model, file);
    const reloaded = await openKerasH5(file);
    expect(reloaded.format).toBe('keras-h5');
    expect(reloaded.model.countParams()).toBe(model.countParams());
    expect(reloaded.model.layers.map((layer) => layer.name)).toEqual(model.layers.map((layer) => layer.name));
    const input = fixedInput([2, 8, 8, 2]);
    expect(Array.from(await predict(reloaded.model, input))).toEqual(Array.from(await predict(model, input)));
    input.dispose();
    reloaded.model.dispose();
    model.dispose();
    // Nothing left behind but the file itself.
    expect(await fs.readdir(dir)).toContain('small_cnn.h5');
    expect((await fs.readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('has the groups, attributes and shapes Keras 2 expects, as h5py sees them', async (context) => {
    const python = findPythonWithH5py();
    if (python === undefined) {
      console.log('skipped: no Python with h5py here (install Debian python3-h5py to run this check)');
      context.skip();
      return;
    }
    const model = buildModel();
    const file = path.join(dir, 'for-h5py.h5');
    await saveKerasH5(model, file);
    const seen = JSON.parse(execFileSync(python, ['-c', H5PY_SCRIPT, file], { encoding: 'utf8' })) as {
      keras_version: string;
      backend: string;
      model_class: string;
      config_layers: string[];
      layer_names: string[];
      weights: Record<string, [string, number[], string][]>;
    };
    expect(seen.keras_version).toBe('2.15.0');
    expect(seen.backend).toBe('tensorflow');
    expect(seen.model_class).toBe('Model');
    const names = ['image', 'conv', 'bn', 'gmp', 'sep', 'residual', 'gap', 'join', 'head'];
    expect([...seen.config_layers].sort()).toEqual([...names].sort());
    expect([...seen.layer_names].sort()).toEqual([...names].sort());
    expect(seen.weights.conv).toEqual([
      ['conv/kernel:0', [3, 3, 2, 4], 'float32'],
      ['conv/bias:0', [4], 'float32'],
    ]);
    expect(seen.weights.bn).toEqual([
      ['bn/gamma:0', [4], 'float32'],
      ['bn/beta:0', [4], 'float32'],
      ['bn/moving_mean:0', [4], 'float32'],
      ['bn/moving_variance:0', [4], 'float32'],
    ]);
    expect(seen.weights.sep).toEqual([
      ['sep/depthwise_kernel:0', [3, 3, 4, 1], 'float32'],
      ['sep/pointwise_kernel:0', [1, 1, 4, 4], 'float32'],
      ['sep/bias:0', [4], 'float32'],
    ]);
    expect(seen.weights.head).toEqual([
      ['head/kernel:0', [8, 3], 'float32'],
      ['head/bias:0', [3], 'float32'],
    ]);
    expect(seen.weights.residual).toEqual([]);
    model.dispose();
  });

  it('fails with the file named when the folder does not exist, leaving nothing behind', async () => {
    const model = buildModel();
    const file = path.join(dir, 'missing-folder', 'model.h5');
    const error = await saveKerasH5(model, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollardError);
    expect((error as PollardError).message).toBe(`${file}: could not write: folder does not exist`);
    model.dispose();
  });

  it('replaces an existing file whole', async () => {
    const file = path.join(dir, 'replace.h5');
    await fs.writeFile(file, 'old content');
    const model = buildModel();
    await saveKerasH5(model, file);
    const reloaded = await openKerasH5(file);
    expect(reloaded.model.countParams()).toBe(model.countParams());
    reloaded.model.dispose();
    model.dispose();
  });
});
