import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PollardError } from '../../../../shared/errors';
import { tf } from '../../tf';
import { openModel } from '../registry';
import { openKerasH5, openKerasWeightsH5 } from './import-h5';
import { makeTempDir, writeKeras2H5, type FixtureWeight } from './test-fixtures';

// A tf.keras 2.10-style functional model: Dense(2, relu) → BatchNormalization → Add(input).
function denseBnAddConfig(dense: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        {
          class_name: 'InputLayer',
          config: {
            batch_input_shape: [null, 2],
            dtype: 'float32',
            sparse: false,
            ragged: false,
            name: 'input_1',
          },
          name: 'input_1',
          inbound_nodes: [],
        },
        {
          class_name: 'Dense',
          config: {
            name: 'dense',
            trainable: true,
            dtype: 'float32',
            units: 2,
            activation: 'relu',
            use_bias: true,
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} },
            kernel_regularizer: null,
            bias_regularizer: null,
            activity_regularizer: null,
            kernel_constraint: null,
            bias_constraint: null,
            ...dense,
          },
          name: 'dense',
          inbound_nodes: [[['input_1', 0, 0, {}]]],
        },
        {
          class_name: 'BatchNormalization',
          config: {
            name: 'batch_normalization',
            trainable: true,
            dtype: 'float32',
            axis: [1],
            momentum: 0.99,
            epsilon: 0.001,
            center: true,
            scale: true,
            beta_initializer: { class_name: 'Zeros', config: {} },
            gamma_initializer: { class_name: 'Ones', config: {} },
            moving_mean_initializer: { class_name: 'Zeros', config: {} },
            moving_variance_initializer: { class_name: 'Ones', config: {} },
            beta_regularizer: null,
            gamma_regularizer: null,
            beta_constraint: null,
            gamma_constraint: null,
          },
          name: 'batch_normalization',
          inbound_nodes: [[['dense', 0, 0, {}]]],
        },
        {
          class_name: 'Add',
          config: { name: 'add', trainable: true, dtype: 'float32' },
          name: 'add',
          inbound_nodes: [
            [
              ['batch_normalization', 0, 0, {}],
              ['input_1', 0, 0, {}],
            ],
          ],
        },
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['add', 0, 0]],
    },
  };
}

const denseWeights = (prefix = 'dense'): FixtureWeight[] => [
  { name: `${prefix}/kernel:0`, shape: [2, 2], values: [1, 2, 3, 4] },
  { name: `${prefix}/bias:0`, shape: [2], values: [0.5, -10] },
];

// Variances chosen so that sqrt(variance + epsilon) is exactly 2 and 1.
const bnWeights = (prefix = 'batch_normalization'): FixtureWeight[] => [
  { name: `${prefix}/gamma:0`, shape: [2], values: [2, 1] },
  { name: `${prefix}/beta:0`, shape: [2], values: [0.1, 0.2] },
  { name: `${prefix}/moving_mean:0`, shape: [2], values: [0.5, 0] },
  { name: `${prefix}/moving_variance:0`, shape: [2], values: [3.999, 0.999] },
];

function layersWith(dense: FixtureWeight[], bn: FixtureWeight[]): [string, FixtureWeight[]][] {
  return [
    ['input_1', []],
    ['dense', dense],
    ['batch_normalization', bn],
    ['add', []],
  ];
}

async function predictOne(model: { predict: (x: tf.Tensor) => unknown }, input: number[]) {
  const x = tf.tensor2d([input]);
  const y = model.predict(x) as tf.Tensor;
  const values = Array.from(await y.data());
  tf.dispose([x, y]);
  return values;
}

async function expectRefusal(promise: Promise<unknown>, message: string, code?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PollardError);
  expect((error as PollardError).message).toBe(message);
  if (code !== undefined) expect((error as PollardError).code).toBe(code);
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('openKerasH5: a Keras 2 whole-model file', () => {
  it('computes what Keras computes: relu(x·K + b) → batch norm → + x', async () => {
    const file = path.join(dir, 'known.h5');
    await writeKeras2H5(file, denseBnAddConfig(), layersWith(denseWeights(), bnWeights()));
    const loaded = await openKerasH5(file);
    expect(loaded.format).toBe('keras-h5');
    expect(loaded.files).toEqual([file]);
    expect(loaded.weightDtypes).toEqual(['float32']);
    expect(loaded.model.countParams()).toBe(6 + 8);
    // x = [1, 1]: x·K + b = [4.5, -4] → relu [4.5, 0] → 2·(4.5-0.5)/2+0.1, 1·0/1+0.2 → + x.
    const y = await predictOne(loaded.model, [1, 1]);
    expect(y[0]).toBeCloseTo(5.1, 4);
    expect(y[1]).toBeCloseTo(1.2, 4);
    loaded.model.dispose();
  });

  it('matches weights by position and kind when Keras uniquified their names (batch_normalization_1/gamma)', async () => {
    const file = path.join(dir, 'renamed.h5');
    await writeKeras2H5(
      file,
      denseBnAddConfig(),
      layersWith(denseWeights(), bnWeights('batch_normalization_1')),
    );
    const loaded = await openKerasH5(file);
    const y = await predictOne(loaded.model, [1, 1]);
    expect(y[0]).toBeCloseTo(5.1, 4);
    loaded.model.dispose();
  });

  it('matches by name when the file lists a layer’s weights in another order', async () => {
    const file = path.join(dir, 'reordered.h5');
    const bn = bnWeights();
    await writeKeras2H5(
      file,
      denseBnAddConfig(),
      layersWith(denseWeights(), [bn[2]!, bn[0]!, bn[3]!, bn[1]!]),
    );
    const loaded = await openKerasH5(file);
    const y = await predictOne(loaded.model, [1, 1]);
    expect(y[0]).toBeCloseTo(5.1, 4);
    expect(y[1]).toBeCloseTo(1.2, 4);
    loaded.model.dispose();
  });

  it('refuses a weight whose kind does not match its position', async () => {
    const file = path.join(dir, 'wrong-kind.h5');
    const bn = bnWeights('batch_normalization_1');
    await writeKeras2H5(
      file,
      denseBnAddConfig(),
      layersWith(denseWeights(), [bn[2]!, bn[0]!, bn[1]!, bn[3]!]),
    );
    await expectRefusal(
      openKerasH5(file),
      `${file}: layer "batch_normalization" (BatchNormalization): weight 1 is "batch_normalization_1/moving_mean:0" in the file, the model expects a gamma`,
      'bad-input',
    );
  });

  it('refuses a weight whose shape differs from the config', async () => {
    const file = path.join(dir, 'wrong-shape.h5');
    const dense = denseWeights();
    dense[0] = { name: 'dense/kernel:0', shape: [1, 4], values: [1, 2, 3, 4] };
    await writeKeras2H5(file, denseBnAddConfig(), layersWith(dense, bnWeights()));
    const tensorsBefore = tf.memory().numTensors;
    await expectRefusal(
      openKerasH5(file),
      `${file}: layer "dense" (Dense): weight "dense/kernel:0" has shape [1, 4] in the file, the model expects [2, 2]`,
      'bad-input',
    );
    // The model built before the weights were checked is released.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('refuses a file whose weights do not add up to what the config implies, before building', async () => {
    const file = path.join(dir, 'missing-bias.h5');
    await writeKeras2H5(file, denseBnAddConfig(), layersWith(denseWeights().slice(0, 1), bnWeights()));
    await expectRefusal(
      openKerasH5(file),
      `${file}: the file stores 12 weight values but its model config implies 14`,
    );
  });

  it('refuses units: 2e9 before anything is allocated', async () => {
    const file = path.join(dir, 'huge-units.h5');
    await writeKeras2H5(file, denseBnAddConfig({ units: 2e9 }), layersWith(denseWeights(), bnWeights()));
    const before = tf.memory().numBytes;
    const error = await openKerasH5(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollardError);
    expect((error as PollardError).message).toMatch(new RegExp(`^${file}: layer "dense"`));
    expect(tf.memory().numBytes).toBe(before);
  });
});

describe('openKerasH5: refusals named by the layer', () => {
  const withLayer = (layer: Record<string, unknown>): Record<string, unknown> => {
    const config = denseBnAddConfig();
    const inner = config.config as { layers: unknown[]; output_layers: unknown };
    inner.layers.push({ ...layer, inbound_nodes: [[['add', 0, 0, {}]]] });
    inner.output_layers = [[(layer.config as { name: string }).name, 0, 0]];
    return config;
  };
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a Lambda layer with marshalled bytecode',
      {
        class_name: 'Lambda',
        config: { name: 'lambda', function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda' },
        name: 'lambda',
      },
      'layer "lambda" is a Lambda holding Python bytecode, which Pollard never runs; rebuild the model with standard layers',
    ],
    [
      'a TFOpLambda layer',
      {
        class_name: 'TFOpLambda',
        config: { name: 'tf.math.add', function: 'math.add' },
        name: 'tf.math.add',
      },
      'unsupported layer "tf.math.add" (class_name "TFOpLambda"): a TFOpLambda layer wraps a raw TensorFlow op; rebuild the model with standard Keras layers',
    ],
    [
      'an unknown custom layer',
      { class_name: 'MyAttention', config: { name: 'attn' }, name: 'attn' },
      'unsupported layer "attn" (class_name "MyAttention"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      'class_name __proto__',
      { class_name: '__proto__', config: { name: 'p' }, name: 'p' },
      'unsupported layer "p" (class_name "__proto__"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      'class_name constructor',
      { class_name: 'constructor', config: { name: 'c' }, name: 'c' },
      'unsupported layer "c" (class_name "constructor"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      'a config that calls enable_unsafe_deserialization',
      {
        module: 'keras.config',
        class_name: 'enable_unsafe_deserialization',
        config: { name: 'x' },
        name: 'x',
      },
      'the config calls enable_unsafe_deserialization (in model > x), which lets a Keras file run arbitrary code; Pollard refuses such files',
    ],
    [
      'a ReLU with a negative slope tfjs would ignore',
      { class_name: 'ReLU', config: { name: 're_lu', negative_slope: 0.1, threshold: 0, max_value: null } },
      'layer "re_lu" (ReLU): negative_slope 0.1 / threshold 0 are not supported by TensorFlow.js (use LeakyReLU)',
    ],
  ];
  for (const [what, layer, problem] of cases) {
    it(`refuses ${what}`, async () => {
      const file = path.join(dir, `refuse-${what.replace(/\W+/g, '-')}.h5`);
      await writeKeras2H5(file, withLayer(layer), layersWith(denseWeights(), bnWeights()));
      await expectRefusal(openKerasH5(file), `${file}: ${problem}`, 'unsupported');
    });
  }
});

describe('openKerasH5: files that are not Keras models', () => {
  it('says an HTML page saved as .h5 is a web page', async () => {
    const file = path.join(dir, 'page.h5');
    await fs.writeFile(file, '<!DOCTYPE html>\n<html><head><title>model.h5 · GitHub</title></head></html>');
    await expectRefusal(
      openKerasH5(file),
      `${file}: looks like an HTML page, not a model file (download the raw file, not the web page)`,
    );
  });

  it('says a Git LFS pointer is not the model', async () => {
    const file = path.join(dir, 'lfs.h5');
    await fs.writeFile(
      file,
      'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n',
    );
    await expectRefusal(openKerasH5(file), `${file}: is a Git LFS pointer, not the model: run git lfs pull`);
  });

  it('refuses a pickle renamed to .h5', async () => {
    const file = path.join(dir, 'pickle.h5');
    await fs.writeFile(file, Buffer.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e]));
    await expectRefusal(
      openKerasH5(file),
      `${file}: is a Python pickle, which can run arbitrary code when loaded; Pollard opens Keras .h5/.keras and TensorFlow.js model.json files`,
      'unsupported',
    );
  });

  it('says a truncated download is truncated', async () => {
    const whole = path.join(dir, 'whole.h5');
    await writeKeras2H5(whole, denseBnAddConfig(), layersWith(denseWeights(), bnWeights()));
    const bytes = await fs.readFile(whole);
    const file = path.join(dir, 'truncated.h5');
    await fs.writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectRefusal(
      openKerasH5(file),
      `${file}: is truncated: its HDF5 header declares ${bytes.length} bytes but the file has ${Math.floor(bytes.length / 2)}`,
    );
  });

  it('says a file cut inside its superblock is truncated, and a corrupt one in one line without HDF5-DIAG', async () => {
    const whole = path.join(dir, 'whole-2.h5');
    await writeKeras2H5(whole, denseBnAddConfig(), layersWith(denseWeights(), bnWeights()));
    const bytes = await fs.readFile(whole);
    for (const size of [10, 30]) {
      const file = path.join(dir, `cut-${size}.h5`);
      await fs.writeFile(file, bytes.subarray(0, size));
      await expectRefusal(
        openKerasH5(file),
        `${file}: is truncated: its ${size} bytes end inside the HDF5 superblock`,
      );
    }
    const printed: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    });
    try {
      const corrupt = path.join(dir, 'corrupt-superblock.h5');
      const copy = Buffer.from(bytes);
      copy.fill(0xff, 12, 40);
      await fs.writeFile(corrupt, copy);
      const refusal = await openKerasH5(corrupt).catch((e: unknown) => e as PollardError);
      expect(refusal).toBeInstanceOf(PollardError);
      const message = (refusal as PollardError).message;
      expect(message.startsWith(`${corrupt}: `)).toBe(true);
      expect(message).not.toContain('\n');
      expect(message).not.toContain('HDF5-DIAG');
    } finally {
      write.mockRestore();
      error.mockRestore();
    }
    expect(printed.filter((line) => line.includes('HDF5-DIAG'))).toEqual([]);
  });

  it('refuses random bytes', async () => {
    const file = path.join(dir, 'noise.h5');
    await fs.writeFile(file, Buffer.from('just some text, not HDF5 at all'));
    await expectRefusal(openKerasH5(file), `${file}: is not an HDF5 file (no HDF5 signature)`);
  });

  it('refuses an HDF5 file without a Keras model in it', async () => {
    const file = path.join(dir, 'plain.h5');
    await writeKeras2H5(file, undefined, [], { weightsOnly: true });
    // A weights-only file with no architecture beside it.
    await expectRefusal(
      openKerasH5(file),
      `${file}: is a weights-only Keras file (model.save_weights): put the architecture JSON from model.to_json() beside it as plain.json`,
    );
  });
});

describe('weights-only .h5 with its architecture beside it', () => {
  it('opens weights with a Keras model.to_json() architecture', async () => {
    const sub = path.join(dir, 'weights-only-keras');
    await fs.mkdir(sub);
    const weights = path.join(sub, 'model.h5');
    await writeKeras2H5(weights, undefined, layersWith(denseWeights(), bnWeights()), { weightsOnly: true });
    await fs.writeFile(
      path.join(sub, 'model.json'),
      JSON.stringify({ ...denseBnAddConfig(), keras_version: '2.10.0' }),
    );
    const loaded = await openKerasH5(weights);
    expect(loaded.format).toBe('keras-weights-h5');
    expect(loaded.files).toEqual([path.join(sub, 'model.json'), weights]);
    const y = await predictOne(loaded.model, [1, 1]);
    expect(y[0]).toBeCloseTo(5.1, 4);
    expect(y[1]).toBeCloseTo(1.2, 4);
    loaded.model.dispose();
  });

  it('is found by the model registry from the folder or the .h5 itself', async () => {
    const sub = path.join(dir, 'weights-only-registry');
    await fs.mkdir(sub);
    const weights = path.join(sub, 'weights.h5');
    await writeKeras2H5(weights, undefined, layersWith(denseWeights(), bnWeights()), { weightsOnly: true });
    await fs.writeFile(path.join(sub, 'architecture.json'), JSON.stringify(denseBnAddConfig()));
    for (const target of [sub, weights]) {
      const loaded = await openModel(target);
      expect(loaded.format).toBe('keras-weights-h5');
      expect(loaded.model.countParams()).toBe(14);
      loaded.model.dispose();
    }
  });

  it('opens weights with a tfjs model.json architecture', async () => {
    const sub = path.join(dir, 'weights-only-tfjs');
    await fs.mkdir(sub);
    const weights = path.join(sub, 'weights.h5');
    await writeKeras2H5(weights, undefined, layersWith(denseWeights(), bnWeights()), { weightsOnly: true });
    const architecture = path.join(sub, 'model.json');
    await fs.writeFile(
      architecture,
      JSON.stringify({
        format: 'layers-model',
        modelTopology: { model_config: denseBnAddConfig() },
        weightsManifest: [],
      }),
    );
    const loaded = await openKerasWeightsH5(weights, architecture);
    const y = await predictOne(loaded.model, [2, 0]);
    // x·K + b = [2.5, -6] → relu [2.5, 0] → [2·2/2+0.1, 0.2] → + [2, 0].
    expect(y[0]).toBeCloseTo(4.1, 4);
    expect(y[1]).toBeCloseTo(0.2, 4);
    loaded.model.dispose();
  });
});
