import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import { readTfjsLayersModel, tfjsLayersImporter } from './tfjs-layers-reader';
import { saveModel } from './tfjs-layers-writer';

let root: string;
let template: Record<string, unknown>;
let shard: Buffer;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-reader-'));
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [4], units: 3, name: 'dense' }),
      tfl.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  const saved = await saveModel(model, path.join(root, 'template'));
  model.dispose();
  template = JSON.parse(await fs.readFile(saved.modelJson, 'utf8')) as Record<string, unknown>;
  shard = await fs.readFile(saved.files[1]!);
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

let counter = 0;

/** A model folder from the template, with model.json edited and shards as given. */
async function modelDir(
  edit: (json: Record<string, unknown>) => void,
  shards: Record<string, Buffer> = { 'group1-shard1of1.bin': shard },
): Promise<string> {
  const dir = path.join(root, `case${++counter}`);
  await fs.mkdir(dir);
  const json = structuredClone(template);
  edit(json);
  await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  for (const [name, data] of Object.entries(shards)) await fs.writeFile(path.join(dir, name), data);
  return path.join(dir, 'model.json');
}

type Manifest = { paths: string[]; weights: Record<string, unknown>[] }[];
const manifest = (json: Record<string, unknown>): Manifest => json.weightsManifest as Manifest;
const layers = (json: Record<string, unknown>): { class_name: string; config: Record<string, unknown> }[] =>
  (json.modelTopology as { config: { layers: unknown[] } }).config.layers as {
    class_name: string;
    config: Record<string, unknown>;
  }[];

async function expectRefusal(file: string, message: string): Promise<void> {
  const before = tf.memory().numTensors;
  await expect(readTfjsLayersModel(file)).rejects.toThrow(message);
  expect(tf.memory().numTensors).toBe(before);
}

describe('readTfjsLayersModel refuses unsafe shard paths (SECURITY 1)', () => {
  it('refuses ../ and absolute paths', async () => {
    for (const bad of ['../template/group1-shard1of1.bin', '/etc/passwd', 'sub/../../x.bin', 'C:\\x.bin']) {
      const file = await modelDir((json) => {
        manifest(json)[0]!.paths = [bad];
      });
      await expectRefusal(
        file,
        `${file}: weightsManifest: shard path "${bad}" leads outside the model folder`,
      );
    }
  });

  it('refuses a symlink that leads out of the folder', async () => {
    const outside = path.join(root, 'outside.bin');
    await fs.writeFile(outside, shard);
    const file = await modelDir(() => undefined, {});
    await fs.symlink(outside, path.join(path.dirname(file), 'group1-shard1of1.bin'));
    await expectRefusal(
      file,
      `${file}: weightsManifest: shard "group1-shard1of1.bin" is a link that leads outside the model folder`,
    );
  });

  it('accepts a symlink that stays inside the folder', async () => {
    const file = await modelDir(() => undefined, { 'real.bin': shard });
    await fs.symlink('real.bin', path.join(path.dirname(file), 'group1-shard1of1.bin'));
    const loaded = await readTfjsLayersModel(file);
    expect(loaded.model.countParams()).toBe(4 * 3 + 3 + 3 * 2 + 2);
    loaded.model.dispose();
  });

  it('names a missing shard', async () => {
    const file = await modelDir(() => undefined, {});
    await expectRefusal(
      file,
      `${path.join(path.dirname(file), 'group1-shard1of1.bin')}: weight shard listed in model.json: no such file`,
    );
  });
});

describe('readTfjsLayersModel checks sizes before decoding (SECURITY 2, 3)', () => {
  it('refuses shards shorter or longer than the manifest', async () => {
    const short = await modelDir(() => undefined, {
      'group1-shard1of1.bin': shard.subarray(0, shard.length - 4),
    });
    await expectRefusal(
      short,
      `${short}: weightsManifest: group 1 (group1-shard1of1.bin) holds 88 bytes, but its weights' shapes and dtypes need 92`,
    );
    const long = await modelDir(() => undefined, {
      'group1-shard1of1.bin': Buffer.concat([shard, Buffer.alloc(1)]),
    });
    await expectRefusal(
      long,
      `${long}: weightsManifest: group 1 (group1-shard1of1.bin) holds 93 bytes, but its weights' shapes and dtypes need 92`,
    );
  });

  it('refuses negative, fractional and huge shapes in the manifest', async () => {
    const cases: [unknown, string][] = [
      [
        [4, -3],
        'weightsManifest: group 1, weight 1: weight "dense/kernel": shape [4,-3] must hold non-negative integers',
      ],
      [
        [4, 2.5],
        'weightsManifest: group 1, weight 1: weight "dense/kernel": shape [4,2.5] must hold non-negative integers',
      ],
      [
        [100000, 100000],
        'weightsManifest: group 1, weight 1: weight "dense/kernel": shape [100000,100000] holds 1.00e+10 values, over the limit of 268,435,456',
      ],
    ];
    for (const [shape, message] of cases) {
      const file = await modelDir((json) => {
        manifest(json)[0]!.weights[0]!.shape = shape;
      });
      await expectRefusal(file, `${file}: ${message}`);
    }
  });

  it('refuses units: 2e9 in the config before anything is read or allocated', async () => {
    const file = await modelDir((json) => {
      layers(json)[1]!.config.units = 2e9;
    });
    await expectRefusal(
      file,
      `${file}: layer "out": weight kernel [3, 2000000000] would hold 6.00e+9 values, over the limit of 268,435,456`,
    );
  });

  it('refuses a manifest shape that differs from what the layer config needs', async () => {
    const file = await modelDir((json) => {
      manifest(json)[0]!.weights[2]!.shape = [2, 3];
    });
    await expectRefusal(
      file,
      `${file}: weight "out/kernel" has shape [2, 3] in the weights, but layer "out" needs [3, 2]`,
    );
  });

  it('refuses weights that are missing from the manifest', async () => {
    const file = await modelDir(
      (json) => {
        manifest(json)[0]!.weights.pop();
      },
      { 'group1-shard1of1.bin': shard.subarray(0, shard.length - 8) },
    );
    await expectRefusal(file, `${file}: the weights hold 21 values, but the model's layers need 23`);
  });

  it('refuses weights whose names match no layer, leaking nothing from the half-built model', async () => {
    const file = await modelDir((json) => {
      manifest(json)[0]!.weights[3]!.name = 'other/bias';
    });
    await expectRefusal(
      file,
      `${file}: cannot build the model: Provided weight data has no target variable: other/bias`,
    );
    expect(Object.keys(tf.engine().registeredVariables).some((name) => name.startsWith('out'))).toBe(false);
  });

  it('refuses string weights and unknown quantization', async () => {
    const strings = await modelDir((json) => {
      manifest(json)[0]!.weights[0]!.dtype = 'string';
    });
    await expectRefusal(
      strings,
      `${strings}: weightsManifest: weight "dense/kernel" has dtype "string"; only float32 and int32 weights are supported`,
    );
    const int4 = await modelDir((json) => {
      manifest(json)[0]!.weights[0]!.quantization = { dtype: 'int4', min: 0, scale: 1 };
    });
    await expectRefusal(
      int4,
      `${int4}: weightsManifest: weight "dense/kernel" has quantization dtype "int4"; supported: uint8, uint16, float16`,
    );
  });

  it('refuses weight names that would reach Object.prototype in tfjs', async () => {
    const file = await modelDir((json) => {
      manifest(json)[0]!.weights[0]!.name = 'dense/constructor';
    });
    await expectRefusal(
      file,
      `${file}: weightsManifest: group 1, weight 1: weight "dense/constructor" has a reserved name`,
    );
  });
});

describe('readTfjsLayersModel refuses unsupported content (SECURITY 4)', () => {
  it.each(['Lambda', '__proto__', 'constructor', 'toString', 'MyLayer'])(
    'class_name %s',
    async (className) => {
      const file = await modelDir((json) => {
        layers(json)[1]!.class_name = className;
      });
      await expectRefusal(file, `${file}: unsupported layer "out" (class_name "${className}")`);
    },
  );

  it('refuses a 100 MB model.json by its size, before reading it', async () => {
    const file = path.join(root, 'huge', 'model.json');
    await fs.mkdir(path.dirname(file));
    await fs.writeFile(file, '');
    await fs.truncate(file, 100 * 1024 * 1024); // sparse: nothing is written
    await expectRefusal(file, `${file}: JSON is 100.0 MB, over the 64.0 MB limit`);
  });

  it('refuses graph models with a conversion hint', async () => {
    const file = await modelDir((json) => {
      json.format = 'graph-model';
    });
    await expectRefusal(file, `${file}: TensorFlow.js graph models are not supported`);
  });

  it('refuses JSON that is not a layers model', async () => {
    const file = await modelDir((json) => {
      delete json.modelTopology;
    });
    await expectRefusal(file, `${file}: not a TensorFlow.js layers model: no modelTopology`);
  });
});

describe('tfjsLayersImporter.match', () => {
  it('matches a folder with model.json and a tfjs model.json file, not other JSON', async () => {
    const file = await modelDir(() => undefined);
    const dir = path.dirname(file);
    expect(
      tfjsLayersImporter.match({
        path: dir,
        isDirectory: true,
        names: ['model.json', 'group1-shard1of1.bin'],
      }),
    ).toBe(true);
    expect(tfjsLayersImporter.match({ path: dir, isDirectory: true, names: ['x.h5'] })).toBe(false);
    const renamed = path.join(dir, 'exported.json');
    await fs.copyFile(file, renamed);
    expect(tfjsLayersImporter.match({ path: renamed, isDirectory: false, names: [] })).toBe(true);
    const keras = path.join(dir, 'arch.json');
    await fs.writeFile(keras, '{"class_name": "Sequential", "config": {}}');
    expect(tfjsLayersImporter.match({ path: keras, isDirectory: false, names: [] })).toBe(false);
    expect(
      tfjsLayersImporter.match({ path: path.join(dir, 'missing.json'), isDirectory: false, names: [] }),
    ).toBe(false);
  });
});

const CORPUS = process.env.POLLARD_CORPUS_DIR ?? path.resolve(__dirname, '../../../../../shared/corpus');
const corpusModels = [
  ['ml5-doodlenet', 544201, [null, 345]],
  ['ml5-crepe-pitch', 487096, [null, 360]],
  ['ml5-cvae-quickdraw-decoder', 62721, [null, 28, 28, 1]],
  ['tfjs-e2e-embedding-gru', 2300, [null, 4]],
  ['tfjs-examples-abalone-mlp', 3051, [null, 1]],
] as const;

describe.skipIf(!existsSync(CORPUS))('real TensorFlow.js models from the corpus', () => {
  it.each(corpusModels)('%s opens with %i parameters', async (name, params, outputShape) => {
    const loaded = await readTfjsLayersModel(path.join(CORPUS, name, 'model.json'));
    expect(loaded.model.countParams()).toBe(params);
    expect(loaded.model.outputs[0]!.shape).toEqual(outputShape);
    loaded.model.dispose();
  });
});
if (!existsSync(CORPUS)) console.log(`corpus models skipped: ${CORPUS} is absent (set POLLARD_CORPUS_DIR)`);
