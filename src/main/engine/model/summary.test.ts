import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfl } from '../tf';
import type { LayersModel } from '../tf';
import { buildArchitecture } from './architectures';
import { measureModelFiles } from './model-files';
import { readTfjsLayersModel } from './tfjs-layers-reader';
import { saveModel } from './tfjs-layers-writer';
import { inspectModel, summarizeModel } from './summary';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-summary-'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function rows(model: LayersModel): Record<string, { macs: number; params: number }> {
  const summary = summarizeModel(model);
  return Object.fromEntries(summary.layers.map((l) => [l.name, { macs: l.macs, params: l.params }]));
}

describe('summarizeModel: MACs by hand', () => {
  it('LeNet on 28x28x1, 10 classes', () => {
    // conv1  28·28·6 · (5·5·1)    = 117,600   params 6·25 + 6     = 156
    // conv2  10·10·16 · (5·5·6)   = 240,000   params 16·150 + 16  = 2,416
    // fc1    400 · 120            =  48,000   params 48,000 + 120 = 48,120
    // fc2    120 · 84             =  10,080   params 10,080 + 84  = 10,164
    // logits 84 · 10              =     840   params 840 + 10     = 850
    // total                          416,520                          61,706
    const model = buildArchitecture('lenet', [28, 28, 1], 10);
    const summary = summarizeModel(model);
    expect(summary.macs).toBe(416_520);
    expect(summary.params).toBe(61_706);
    expect(summary.params).toBe(model.countParams());
    expect(summary.trainableParams).toBe(61_706);
    expect(rows(model)).toEqual({
      conv1: { macs: 117_600, params: 156 },
      pool1: { macs: 0, params: 0 },
      conv2: { macs: 240_000, params: 2_416 },
      pool2: { macs: 0, params: 0 },
      flatten: { macs: 0, params: 0 },
      fc1: { macs: 48_000, params: 48_120 },
      fc2: { macs: 10_080, params: 10_164 },
      logits: { macs: 840, params: 850 },
    });
    const conv2 = summary.layers.find((l) => l.name === 'conv2')!;
    expect(conv2).toMatchObject({ className: 'Conv2D', outputShape: [null, 10, 10, 16], inbound: ['pool1'] });
    expect(summary).toMatchObject({
      inputShape: [null, 28, 28, 1],
      outputShape: [null, 10],
      classes: 10,
      format: 'tfjs-layers',
    });
    model.dispose();
  });

  it('ResNet-20 on 32x32x3: 40,813,184 MACs (40.55 M of the paper + 262,144 for the two projections)', () => {
    // conv1 32·32·16·27 = 442,368; stage 1: 6 × 32·32·16·144 = 14,155,776;
    // stage 2: 16·16·32·144 + 5 × 16·16·32·288 = 12,976,128; stage 3: 8·8·64·288 + 5 × 8·8·64·576 = 12,976,128;
    // logits 64·10 = 640; projections 16·16·32·16 + 8·8·64·32 = 262,144.
    const model = buildArchitecture('resnet20', [32, 32, 3], 10);
    const summary = summarizeModel(model);
    expect(summary.macs).toBe(40_813_184);
    expect(summary.params).toBe(model.countParams());
    // BN moving statistics are not trainable: 2 per channel over all 21 BNs.
    const bnChannels = 16 + 6 * 16 + 6 * 32 + 6 * 64 + 32 + 64;
    expect(summary.trainableParams).toBe(summary.params - 2 * bnChannels);
    const add = summary.layers.find((l) => l.name === 'block2_1_add')!;
    expect(add.inbound).toEqual(['block2_1_bn2', 'block2_1_shortcut_bn']);
    expect(add.macs).toBe(0);
    model.dispose();
  });

  it('vgg-small on 28x28x1 and mobilenet-small on 32x32x3', () => {
    // vgg-small: block1 784·32·9 + 784·32·288; block2 196·64·288 + 196·64·576;
    // block3 49·128·576 + 49·128·1152; fc1 1152·128; logits 128·10 = 29,275,904.
    const vgg = buildArchitecture('vgg-small', [28, 28, 1], 10);
    expect(summarizeModel(vgg).macs).toBe(29_275_904);
    expect(summarizeModel(vgg).params).toBe(436_650);
    vgg.dispose();
    // mobilenet-small: stem 1024·16·27; block1 1024·16·9 + 1024·16·32; block2 (stride 2) 256·32·9 + 256·32·64;
    // block3 256·64·9 + 256·64·64; block4 (stride 2) 64·64·9 + 64·64·128; block5 64·128·9 + 64·128·128;
    // sep 64·128·9 + 64·128·256; logits 256·10 = 6,765,056.
    const mobile = buildArchitecture('mobilenet-small', [32, 32, 3], 10);
    expect(summarizeModel(mobile).macs).toBe(6_765_056);
    expect(summarizeModel(mobile).params).toBe(mobile.countParams());
    mobile.dispose();
  });

  it('depthwise, separable, transposed, 1-D convolutions and dense on sequences', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.depthwiseConv2d({
          name: 'dw',
          inputShape: [10, 10, 4],
          kernelSize: 3,
          depthMultiplier: 2,
          padding: 'valid',
        }),
        tfl.layers.separableConv2d({
          name: 'sep',
          kernelSize: [3, 1],
          filters: 5,
          depthMultiplier: 3,
          padding: 'same',
        }),
        tfl.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: 2, strides: 2 }),
        tfl.layers.reshape({ name: 'seq', targetShape: [16 * 16, 2] }),
        tfl.layers.conv1d({ name: 'c1d', filters: 3, kernelSize: 4, strides: 2 }),
        tfl.layers.dense({ name: 'td_dense', units: 6 }),
      ],
    });
    // dw:   8·8 positions · 4 in · 2 mult · 9                = 4,608
    // sep:  8·8 · 8 in · 3 mult · 3  +  8·8 · 24 · 5          = 4,608 + 7,680 = 12,288
    // up:   8·8 in positions · 5 in · 4 · 2 out               = 2,560
    // c1d:  127 positions · 3 out · 4 · 2 in                  = 3,048
    // dense 127 positions · 3 · 6                             = 2,286
    expect(rows(model)).toEqual({
      dw: { macs: 4_608, params: 3 * 3 * 4 * 2 + 8 },
      sep: { macs: 12_288, params: 3 * 8 * 3 + 24 * 5 + 5 },
      up: { macs: 2_560, params: 2 * 2 * 2 * 5 + 2 },
      seq: { macs: 0, params: 0 },
      c1d: { macs: 3_048, params: 4 * 2 * 3 + 3 },
      td_dense: { macs: 2_286, params: 3 * 6 + 6 },
    });
    model.dispose();
  });

  it('recurrent layers, wrappers and a nested model', () => {
    const inner = tfl.sequential({
      name: 'head',
      layers: [
        tfl.layers.dense({ name: 'h1', inputShape: [8], units: 4 }),
        tfl.layers.dense({ name: 'h2', units: 3 }),
      ],
    });
    const x = tfl.input({ name: 'x', shape: [5, 7] });
    const lstm = tfl.layers
      .lstm({ name: 'lstm', units: 4, returnSequences: true, recurrentInitializer: 'glorotUniform' })
      .apply(x) as tfl.SymbolicTensor;
    const gru = tfl.layers
      .bidirectional({
        name: 'bigru',
        layer: tfl.layers.gru({ units: 2, recurrentInitializer: 'glorotUniform' }) as tfl.RNN,
        mergeMode: 'concat',
      })
      .apply(lstm) as tfl.SymbolicTensor;
    const td = tfl.layers
      .timeDistributed({ name: 'td', layer: tfl.layers.dense({ units: 3 }) })
      .apply(lstm) as tfl.SymbolicTensor;
    const rnn = tfl.layers
      .simpleRNN({ name: 'rnn', units: 4, recurrentInitializer: 'glorotUniform' })
      .apply(td) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({ name: 'cat' }).apply([gru, rnn]) as tfl.SymbolicTensor;
    const out = inner.apply(cat) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: x, outputs: out });
    // lstm  5 steps · 4 gates · (7·4 + 4·4)     = 880
    // bigru 2 · 5 · 3 · (4·2 + 2·2)            = 360
    // td    5 · (4 · 3)                         = 60
    // rnn   5 · 1 · (3·4 + 4·4)                 = 140
    // head  8·4 + 4·3                           = 44
    const r = rows(model);
    expect([r.lstm!.macs, r.bigru!.macs, r.td!.macs, r.rnn!.macs, r.head!.macs]).toEqual([
      880, 360, 60, 140, 44,
    ]);
    expect(summarizeModel(model).params).toBe(model.countParams());
    model.dispose();
  });
});

describe('summarizeModel and inspectModel on stored models', () => {
  it('reports stored sizes, dtypes and class names', async () => {
    const model = buildArchitecture('lenet', [28, 28, 1], 3, 5);
    const classNames = ['cat', 'dog', '<b>bird</b>'];
    const saved = await saveModel(model, path.join(root, 'lenet-u8'), {
      quantize: 'uint8',
      metadata: { classNames },
    });
    const loaded = await readTfjsLayersModel(saved.modelJson);
    const sizes = await measureModelFiles(saved.files);
    const summary = summarizeModel(loaded);
    expect(summary.sizeBytes).toBe(saved.bytes);
    expect(summary.sizeGzipBytes).toBe(sizes.gzipBytes);
    expect(summary.weightDtypes).toEqual(['uint8']);
    expect(summary.classNames).toEqual(classNames);
    expect(summary.classes).toBe(3);
    expect(summary.source).toBe(saved.modelJson);

    const inspected = await inspectModel(saved.dir);
    expect(inspected).toEqual({ ...summary, source: saved.dir });
    loaded.model.dispose();
    model.dispose();
  });

  it('estimates the float32 size of an unsaved model', () => {
    const model = buildArchitecture('lenet', [28, 28, 1], 10);
    const summary = summarizeModel(model);
    expect(summary.source).toBe('(in memory)');
    expect(summary.weightDtypes).toEqual(['float32']);
    expect(summary.sizeBytes).toBeGreaterThan(61_706 * 4);
    expect(summary.sizeBytes).toBeLessThan(61_706 * 4 + 20_000);
    expect(summary.sizeGzipBytes).toBeLessThan(summary.sizeBytes);
    model.dispose();
  });
});
