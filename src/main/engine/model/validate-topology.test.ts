import { describe, expect, it } from 'vitest';
import { parseJsonSafe } from './safe-json';
import { validateTopology } from './validate-topology';

const FILE = '/models/m/model.json';

function sequential(layers: unknown[]): unknown {
  return { class_name: 'Sequential', config: { name: 'm', layers } };
}

function layer(className: string, config: Record<string, unknown> = {}): unknown {
  return { class_name: className, config: { name: 'x', ...config } };
}

const input = layer('InputLayer', { name: 'in', batch_input_shape: [null, 4] });

describe('validateTopology: class names are allow-listed', () => {
  it.each([
    [
      'Lambda',
      '/models/m/model.json: unsupported layer "x" (class_name "Lambda"): a Lambda layer holds Python code, which Pollard never runs; rebuild the model with standard layers',
    ],
    [
      'MyCustomLayer',
      '/models/m/model.json: unsupported layer "x" (class_name "MyCustomLayer"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      '__proto__',
      '/models/m/model.json: unsupported layer "x" (class_name "__proto__"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      'constructor',
      '/models/m/model.json: unsupported layer "x" (class_name "constructor"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      'toString',
      '/models/m/model.json: unsupported layer "x" (class_name "toString"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    ],
    [
      'Subtract',
      '/models/m/model.json: unsupported layer "x" (class_name "Subtract"): TensorFlow.js has no Subtract layer; rebuild the model without it',
    ],
  ])('refuses class_name %s with the layer name and a hint', (className, message) => {
    expect(() => validateTopology(sequential([input, layer(className)]), FILE)).toThrow(message);
  });

  it('refuses the same names when they come through JSON text, without polluting Object.prototype', () => {
    const text =
      '{"class_name":"Sequential","config":{"name":"m","layers":[{"class_name":"__proto__","config":{"name":"evil","__proto__":{"polluted":1}}}]},"__proto__":{"polluted":2}}';
    const parsed = parseJsonSafe(text, FILE);
    expect(() => validateTopology(parsed, FILE)).toThrow(
      '/models/m/model.json: unsupported layer "evil" (class_name "__proto__")',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not copy prototype keys from objects that did not come through parseJsonSafe', () => {
    const config = JSON.parse('{"name": "x", "units": 2, "__proto__": {"polluted": true}}') as Record<
      string,
      unknown
    >;
    const { model } = validateTopology(sequential([input, { class_name: 'Dense', config }]), FILE);
    const clean = (model.config.layers as { config: Record<string, unknown> }[])[1]!.config;
    expect(Object.getPrototypeOf(clean)).toBe(Object.prototype);
    expect(clean.polluted).toBeUndefined();
  });

  it('refuses a top level that is not a model, and a layer inside a wrapper', () => {
    expect(() => validateTopology(layer('Dense'), FILE)).toThrow(
      '/models/m/model.json: modelTopology: top-level class_name "Dense" is not a model (expected Sequential or Model)',
    );
    const wrapped = layer('TimeDistributed', { layer: layer('Lambda', { name: 'inner' }) });
    expect(() => validateTopology(sequential([input, wrapped]), FILE)).toThrow(
      '/models/m/model.json: unsupported layer "inner" (class_name "Lambda")',
    );
  });

  it('walks nested models', () => {
    const nested = {
      class_name: 'Sequential',
      config: { name: 'inner', layers: [layer('Lambda', { name: 'deep' })] },
    };
    expect(() => validateTopology(sequential([input, nested]), FILE)).toThrow(
      '/models/m/model.json: unsupported layer "deep" (class_name "Lambda")',
    );
  });
});

describe('validateTopology: named functions and objects', () => {
  it.each([
    [{ activation: 'constructor' }, '/models/m/model.json: layer "x": unsupported activation "constructor"'],
    [{ activation: 'Dense' }, '/models/m/model.json: layer "x": unsupported activation "Dense"'],
    [
      { kernel_initializer: 'toString' },
      '/models/m/model.json: layer "x": unsupported kernel_initializer "toString"',
    ],
    [
      { kernel_initializer: { class_name: 'Dense', config: {} } },
      '/models/m/model.json: layer "x": unsupported kernel_initializer "Dense"',
    ],
    [
      { kernel_constraint: { class_name: 'hasOwnProperty', config: {} } },
      '/models/m/model.json: layer "x": unsupported kernel_constraint "hasOwnProperty"',
    ],
    [
      { bias_regularizer: { class_name: 'OrthogonalRegularizer', config: {} } },
      '/models/m/model.json: layer "x": unsupported bias_regularizer "OrthogonalRegularizer"',
    ],
    [
      { dtype: 'float64' },
      '/models/m/model.json: layer "x": unsupported dtype "float64" (Pollard supports float32, int32 and bool layers)',
    ],
    [
      { something: { class_name: 'Evil', config: {} } },
      '/models/m/model.json: layer "x": unsupported object "Evil" in "something"',
    ],
  ])('refuses %j', (config, message) => {
    expect(() =>
      validateTopology(sequential([input, layer('Dense', { units: 2, ...config })]), FILE),
    ).toThrow(message);
  });

  it('refuses attributes tfjs would silently ignore', () => {
    expect(() => validateTopology(sequential([input, layer('Conv2D', { groups: 2 })]), FILE)).toThrow(
      '/models/m/model.json: layer "x": grouped convolution (groups 2) is not supported by TensorFlow.js',
    );
    expect(() =>
      validateTopology(sequential([input, layer('GlobalAveragePooling2D', { keepdims: true })]), FILE),
    ).toThrow(
      '/models/m/model.json: layer "x": keepdims=true is not supported by TensorFlow.js pooling layers',
    );
    expect(() =>
      validateTopology(sequential([input, layer('GRU', { units: 2, reset_after: true })]), FILE),
    ).toThrow(
      '/models/m/model.json: layer "x": GRU with reset_after=true (the Keras 2 default) is not supported by TensorFlow.js; retrain with reset_after=False',
    );
  });

  it('rewrites Keras spellings to what tfjs knows, and drops nothing else', () => {
    const dense = layer('Dense', {
      units: 2,
      kernel_initializer: { class_name: 'LecunNormal', config: { seed: 3 } },
      bias_initializer: 'zeros',
      kernel_regularizer: { class_name: 'L2', config: { l2: 0.5 } },
      bias_regularizer: { class_name: 'L1', config: {} },
      kernel_constraint: 'max_norm',
      dtype: { class_name: 'DTypePolicy', config: { name: 'float32' } },
      activation: 'hard_sigmoid',
    });
    const { model } = validateTopology(sequential([input, dense]), FILE);
    const config = (model.config.layers as { config: Record<string, unknown> }[])[1]!.config;
    expect(config).toEqual({
      name: 'x',
      units: 2,
      kernel_initializer: { class_name: 'LeCunNormal', config: { seed: 3 } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: { class_name: 'L1L2', config: { l1: 0, l2: 0.5 } },
      bias_regularizer: { class_name: 'L1L2', config: { l1: 0.01, l2: 0 } },
      kernel_constraint: { class_name: 'MaxNorm', config: {} },
      dtype: 'float32',
      activation: 'hard_sigmoid',
    });
  });

  it('unwraps model_config, keeps versions, and drops the training config', () => {
    const topology = {
      keras_version: '2.2.4',
      backend: 'tensorflow',
      model_config: sequential([input]),
      training_config: { optimizer_config: { class_name: 'Evil', config: {} } },
    };
    const checked = validateTopology(topology, FILE);
    expect(checked.kerasVersion).toBe('2.2.4');
    expect(checked.backend).toBe('tensorflow');
    expect(JSON.stringify(checked)).not.toContain('Evil');
  });

  it('names an unnamed model as Keras does, never after the JSON key ("modelTopology")', () => {
    const unnamed = validateTopology({ class_name: 'Sequential', config: { layers: [input] } }, FILE);
    expect(unnamed.model.config.name).toBe('sequential');
    const functional = validateTopology(
      {
        class_name: 'Functional',
        config: {
          layers: [{ ...(input as object), inbound_nodes: [] }],
          input_layers: [['in', 0, 0]],
          output_layers: [['in', 0, 0]],
        },
      },
      FILE,
    );
    expect(functional.model.config.name).toBe('model');
  });

  it('checks functional wiring: node references and call arguments', () => {
    const functional = (inbound: unknown): unknown => ({
      class_name: 'Model',
      config: {
        name: 'g',
        layers: [
          { ...(input as object), inbound_nodes: [] },
          { class_name: 'Dense', config: { name: 'd', units: 2 }, inbound_nodes: inbound },
        ],
        input_layers: [['in', 0, 0]],
        output_layers: [['d', 0, 0]],
      },
    });
    expect(() => validateTopology(functional([[['in', -1, 0, {}]]]), FILE)).toThrow(
      '/models/m/model.json: layer "d" inbound node: expected [layer name, node index, tensor index], got ["in",-1,0,{}]',
    );
    expect(() => validateTopology(functional([[['in', 0, 0, { initial_state: 1 }]]]), FILE)).toThrow(
      '/models/m/model.json: layer "d" inbound node: unsupported call arguments initial_state',
    );
    expect(() => validateTopology(functional([[['in', 0, 0, {}]]]), FILE)).not.toThrow();
  });

  it('refuses duplicate layer names and unusable names', () => {
    expect(() =>
      validateTopology(sequential([input, layer('Dense', { name: 'in', units: 1 })]), FILE),
    ).toThrow('/models/m/model.json: model "m" has two layers named "in"');
    expect(() =>
      validateTopology(sequential([input, layer('Dense', { name: 'a'.repeat(300), units: 1 })]), FILE),
    ).toThrow('layer name must be 1 to 256 characters');
  });
});

describe('parseJsonSafe', () => {
  it('refuses text over the size limit before parsing it', () => {
    expect(() => parseJsonSafe('[' + ' '.repeat(2000) + ']', FILE, { maxBytes: 1000, maxDepth: 10 })).toThrow(
      '/models/m/model.json: JSON is 2002 bytes, over the 1000 bytes limit',
    );
  });

  it('refuses deep nesting before parsing (100,000 brackets)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => parseJsonSafe(deep, FILE)).toThrow(
      '/models/m/model.json: JSON is nested deeper than 100 levels',
    );
  });

  it('ignores brackets inside strings when measuring depth', () => {
    expect(parseJsonSafe('{"a": "[[[[[[[[[[[[\\"[[["}', FILE, { maxBytes: 1000, maxDepth: 2 })).toEqual({
      a: '[[[[[[[[[[[["[[[',
    });
  });

  it('drops __proto__, constructor and prototype keys', () => {
    const value = parseJsonSafe(
      '{"__proto__": {"x": 1}, "constructor": 2, "prototype": 3, "ok": 4}',
      FILE,
    ) as object;
    expect(Object.keys(value)).toEqual(['ok']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('names the file for invalid JSON', () => {
    expect(() => parseJsonSafe('{"a": ', FILE)).toThrow(/^\/models\/m\/model\.json: invalid JSON \(/);
  });
});
