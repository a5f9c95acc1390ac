import { promises as fs } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollardError } from '../../../../shared/errors';
import { tf } from '../../tf';
import { openKerasV3 } from './import-keras3';
import { readKerasArchiveBytes, unsafeEntryName, KERAS_ZIP_LIMITS } from './keras-zip';
import { makeTempDir, writeKeras3File, writeZip, type FixtureWeight } from './test-fixtures';

const policy = {
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name: 'float32' },
  registered_name: null,
};
const tensor = (layer: string, shape: (number | null)[] = [null, 2]) => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] },
});
const initializer = (className: string) => ({
  module: 'keras.initializers',
  class_name: className,
  config: {},
  registered_name: null,
});

function layer(className: string, name: string, config: Record<string, unknown>, args: unknown[]) {
  return {
    module: 'keras.layers',
    class_name: className,
    config: { name, trainable: true, dtype: policy, ...config },
    registered_name: null,
    build_config: { input_shape: [null, 2] },
    name,
    inbound_nodes: [{ args, kwargs: {} }],
  };
}

/** Keras 3.8-style functional model: a, b → Dense(a) + b → LeakyReLU(negative_slope 0.5). */
function functionalConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const input = (name: string) => ({
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: [null, 2], dtype: 'float32', sparse: false, name },
    registered_name: null,
    name,
    inbound_nodes: [],
  });
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        input('a'),
        input('b'),
        layer(
          'Dense',
          'dense',
          {
            units: 2,
            activation: 'linear',
            use_bias: true,
            kernel_initializer: { ...initializer('GlorotUniform'), config: { seed: null } },
            bias_initializer: initializer('Zeros'),
            kernel_regularizer: null,
            bias_regularizer: null,
            kernel_constraint: null,
            bias_constraint: null,
            ...extra,
          },
          [tensor('a')],
        ),
        layer('Add', 'add', {}, [[tensor('dense'), tensor('b')]]),
        layer('LeakyReLU', 'leaky', { negative_slope: 0.5 }, [tensor('add')]),
      ],
      input_layers: [
        ['a', 0, 0],
        ['b', 0, 0],
      ],
      output_layers: [['leaky', 0, 0]],
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
}

const denseVars: Record<string, FixtureWeight[]> = {
  'layers/dense/vars': [
    { name: 'kernel', shape: [2, 2], values: [1, 0, 0, -1] },
    { name: 'bias', shape: [2], values: [0, -3] },
  ],
};

async function refusal(promise: Promise<unknown>): Promise<PollardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PollardError);
  return error as PollardError;
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('openKerasV3: a Keras 3 .keras file', () => {
  it('translates a two-input functional config and computes leaky(a·K + b_dense + b)', async () => {
    const file = path.join(dir, 'functional.keras');
    await writeKeras3File(file, functionalConfig(), denseVars);
    const loaded = await openKerasV3(file);
    expect(loaded.format).toBe('keras-v3');
    expect(loaded.metadata.producedBy).toEqual({ keras_version: '3.8.0' });
    expect(loaded.model.countParams()).toBe(6);
    const a = tf.tensor2d([[1, 2]]);
    const b = tf.tensor2d([[0.5, 0.5]]);
    const y = loaded.model.predict([a, b]) as tf.Tensor;
    // a·K + bias = [1, -5]; + b = [1.5, -4.5]; LeakyReLU with Keras 3's negative_slope 0.5.
    expect(Array.from(await y.data())).toEqual([1.5, -2.25]);
    tf.dispose([a, b, y]);
    loaded.model.dispose();
  });

  it('reads a Sequential with InputLayer batch_shape, Masking __tensor__ and an LSTM cell', async () => {
    const file = path.join(dir, 'lstm.keras');
    const config = {
      module: 'keras',
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        trainable: true,
        dtype: policy,
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            config: {
              batch_shape: [null, 2, 1],
              dtype: 'float32',
              sparse: false,
              ragged: false,
              name: 'input_layer',
            },
            registered_name: null,
          },
          {
            module: 'keras.layers',
            class_name: 'Masking',
            config: {
              name: 'masking',
              trainable: true,
              dtype: policy,
              mask_value: { class_name: '__tensor__', config: { value: [0.0], dtype: 'float32' } },
            },
            registered_name: null,
          },
          {
            module: 'keras.layers',
            class_name: 'LSTM',
            config: {
              name: 'lstm',
              trainable: true,
              dtype: policy,
              units: 1,
              activation: 'tanh',
              recurrent_activation: 'sigmoid',
              use_bias: true,
              return_sequences: false,
              kernel_initializer: initializer('GlorotUniform'),
              recurrent_initializer: { ...initializer('Orthogonal'), config: { seed: null, gain: 1.0 } },
              bias_initializer: initializer('Zeros'),
              unit_forget_bias: true,
              seed: null,
            },
            registered_name: null,
            build_config: { input_shape: [null, 2, 1] },
          },
        ],
        build_input_shape: [null, 2, 1],
      },
      registered_name: null,
    };
    // Gates i, f, c, o; only the cell input path is non-zero: c = i·tanh(x) with i = sigmoid(0) = 0.5.
    await writeKeras3File(file, config, {
      'layers/lstm/cell/vars': [
        { name: 'kernel', shape: [1, 4], values: [0, 0, 1, 0] },
        { name: 'recurrent_kernel', shape: [1, 4], values: [0, 0, 0, 0] },
        { name: 'bias', shape: [4], values: [0, 0, 0, 0] },
      ],
    });
    const tensorsBefore = tf.memory().numTensors;
    const loaded = await openKerasV3(file);
    const x = tf.tensor3d([[[1], [0]]]);
    const y = loaded.model.predict(x) as tf.Tensor;
    // Step 1: c = 0.5·tanh(1), h = 0.5·tanh(c). Step 2 is masked (x = 0), so h stays.
    const expected = 0.5 * Math.tanh(0.5 * Math.tanh(1));
    expect((await y.data())[0]).toBeCloseTo(expected, 6);
    tf.dispose([x, y]);
    loaded.model.dispose();
    // tfjs's unit_forget_bias initializer leaks intermediates unless the build is scoped.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    [
      'a custom registered layer',
      { registered_name: 'MyPackage>MyDense' },
      'layer "dense" uses the custom class "MyPackage>MyDense"; custom or subclassed Keras objects are not supported: rebuild the model with standard layers',
    ],
    [
      'a non-Keras Python module',
      { module: 'os' },
      'the config imports Python module "os" (in functional > dense) (class Dense); Pollard only opens built-in Keras objects',
    ],
    [
      'Keras 3 hard_sigmoid',
      { config: { activation: 'hard_sigmoid' } },
      `layer "dense" (Dense): Keras 3's hard_sigmoid (relu6(x + 3) / 6) differs from TensorFlow.js's (0.2 x + 0.5); use sigmoid and retrain`,
    ],
    [
      'a LoRA-adapted Dense',
      { config: { lora_rank: 4 } },
      'layer "dense" (Dense): LoRA-adapted Dense layers are not supported',
    ],
    [
      'a quantized dtype policy',
      {
        config: {
          dtype: {
            module: 'keras',
            class_name: 'QuantizedDTypePolicy',
            config: { name: 'int8_from_float32' },
          },
        },
      },
      'layer "dense" uses the dtype policy QuantizedDTypePolicy (a Keras-quantized layer); save the float model instead',
    ],
  ];
  for (const [what, change, problem] of refusals) {
    it(`refuses ${what}`, async () => {
      const file = path.join(dir, `refuse-${what.replace(/\W+/g, '-')}.keras`);
      const config = functionalConfig() as { config: { layers: Record<string, unknown>[] } };
      const dense = config.config.layers[2] as Record<string, unknown>;
      const { config: configChange, ...rest } = change;
      Object.assign(dense, rest);
      if (configChange !== undefined) Object.assign(dense.config as object, configChange);
      await writeKeras3File(file, config, denseVars);
      const error = await refusal(openKerasV3(file));
      expect(error.message).toBe(`${file}: ${problem}`);
      expect(error.code).toBe('unsupported');
    });
  }

  it('refuses a Keras 3 Lambda holding marshalled bytecode', async () => {
    const file = path.join(dir, 'lambda.keras');
    const config = functionalConfig() as { config: { layers: unknown[]; output_layers: unknown } };
    config.config.layers.push({
      module: 'keras.layers',
      class_name: 'Lambda',
      config: {
        name: 'lambda',
        function: {
          class_name: '__lambda__',
          config: { code: '4wEAAAAAAAAAAAAAAAEAAAABAAAAQwAAAHMIAAAAfABkARQAUwApAk4p', defaults: null },
        },
      },
      registered_name: null,
      name: 'lambda',
      inbound_nodes: [{ args: [tensor('leaky')], kwargs: {} }],
    });
    config.config.output_layers = [['lambda', 0, 0]];
    await writeKeras3File(file, config, denseVars);
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: layer "lambda" is a Lambda holding Python bytecode, which Pollard never runs; rebuild the model with standard layers`,
    );
  });

  it('refuses a layer called with a non-tensor argument', async () => {
    const file = path.join(dir, 'scalar-arg.keras');
    const config = functionalConfig() as { config: { layers: Record<string, unknown>[] } };
    (config.config.layers[3] as { inbound_nodes: unknown }).inbound_nodes = [
      { args: [[tensor('dense'), 3]], kwargs: {} },
    ];
    await writeKeras3File(file, config, denseVars);
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: layer "add" is called with a non-tensor argument (3), which is not supported`,
    );
  });

  it('refuses weights for a layer the config does not have', async () => {
    const file = path.join(dir, 'stray-weights.keras');
    await writeKeras3File(file, functionalConfig(), {
      ...denseVars,
      'layers/ghost/vars': [{ name: 'kernel', shape: [1], values: [1] }],
    });
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: model.weights.h5 holds weights for layer "ghost", which the config does not have`,
    );
  });

  it('refuses a variable with the wrong shape', async () => {
    const file = path.join(dir, 'bad-shape.keras');
    await writeKeras3File(file, functionalConfig(), {
      'layers/dense/vars': [
        { name: 'kernel', shape: [4], values: [1, 0, 0, -1] },
        { name: 'bias', shape: [2], values: [0, -3] },
      ],
    });
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: layer "dense" (Dense): weight "/layers/dense/vars/0" has shape [4] in the file, the model expects [2, 2]`,
    );
  });
});

describe('.keras zip safety', () => {
  it('refuses an entry that climbs out with ..', async () => {
    const file = path.join(dir, 'traversal.keras');
    await writeZip(file, { 'config.json': '{}', '../../evil.sh': 'rm -rf ~' });
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: zip entry "../../evil.sh" climbs out of the archive with ".."; refusing the archive`,
    );
  });

  it('names absolute and backslash paths as unsafe', () => {
    expect(unsafeEntryName('/etc/passwd')).toBe('is an absolute path');
    expect(unsafeEntryName('C:\\Windows\\x')).toBe('is an absolute path');
    expect(unsafeEntryName('a\\..\\..\\b')).toBe('climbs out of the archive with ".."');
    expect(unsafeEntryName('model.weights.h5')).toBeUndefined();
  });

  it('refuses a zip bomb by its compression ratio before inflating it', () => {
    const zeros = new Uint8Array(24 * 1024 * 1024);
    const bytes = zipSync({
      'config.json': new TextEncoder().encode('{}'),
      'model.weights.h5': [zeros, { level: 9 }],
    });
    const error = (() => {
      try {
        readKerasArchiveBytes('bomb.keras', bytes);
      } catch (e) {
        return e as PollardError;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(
      /^bomb\.keras: zip entry "model\.weights\.h5" would expand from \d+ to 25165824 bytes \(a zip bomb\?\); refusing the archive$/,
    );
  });

  it('refuses entries whose declared sizes exceed the total limit', () => {
    const bytes = zipSync({ 'config.json': [new Uint8Array(3000), { level: 0 }] });
    expect(() =>
      readKerasArchiveBytes('big.keras', bytes, { ...KERAS_ZIP_LIMITS, maxTotalBytes: 2000 }),
    ).toThrow('big.keras: zip entries would expand to 3000 bytes, over the 2000-byte limit');
  });

  it('refuses a zip without config.json', async () => {
    const file = path.join(dir, 'no-config.keras');
    await writeZip(file, { 'readme.txt': 'hello' });
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: is a zip archive without config.json, so not a Keras 3 .keras model`,
    );
  });

  it('says an HDF5 file named .keras is a Keras 2 file', async () => {
    const file = path.join(dir, 'really-h5.keras');
    await fs.writeFile(file, Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
    const error = await refusal(openKerasV3(file));
    expect(error.message).toBe(
      `${file}: is an HDF5 file, not a .keras zip archive (a Keras 2 model should be named .h5)`,
    );
  });
});
