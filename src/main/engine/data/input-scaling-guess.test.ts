import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openModel } from '../model/registry';
import { summarizeModel } from '../model/summary';
import { normalizationOf } from './input-scaling';
import { guessInputScaling, guessLayersOf } from './input-scaling-guess';

const CORPUS =
  process.env.POLLARD_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');
const corpus = (file: string): string => path.join(CORPUS, file);
const conv = { name: 'conv', className: 'Conv2D', weighted: true };

describe('guessInputScaling on real model files', () => {
  const teachable = corpus('tm-keras-mobilenetv2-trash/keras_model.h5');
  it.skipIf(!existsSync(teachable))(
    'reads Keras MobileNetV2 inside a Teachable Machine model as [−1, 1]',
    async () => {
      const loaded = await openModel(teachable);
      try {
        expect(
          guessInputScaling({ modelName: loaded.model.name, layers: guessLayersOf(loaded.model.layers) }),
        ).toEqual({
          scaling: 'symmetric',
          reason: "layers Conv1 and bn_Conv1 are Keras MobileNetV2's, which takes [−1, 1]",
        });
        // `inspect` (and the Model step) carry the guess in the model's summary.
        expect(summarizeModel(loaded).inputScalingGuess?.scaling).toBe('symmetric');
      } finally {
        loaded.model.dispose();
      }
    },
  );

  const doodle = corpus('ml5-doodlenet/model.json');
  it.skipIf(!existsSync(doodle))('says nothing where the file says nothing (ml5 DoodleNet)', async () => {
    const loaded = await openModel(doodle);
    try {
      expect(
        guessInputScaling({ modelName: loaded.model.name, layers: guessLayersOf(loaded.model.layers) }),
      ).toBe(null);
    } finally {
      loaded.model.dispose();
    }
  });
});

describe('guessInputScaling rules', () => {
  it('takes a stored scaling first', () => {
    expect(guessInputScaling({ modelName: 'mobilenet', layers: [], stored: 'imagenet' })).toEqual({
      scaling: 'imagenet',
      reason: 'stored with the model',
    });
  });

  it('reads Rescaling and Normalization layers before the first weighted layer', () => {
    const rescale = (scale: number, offset: number) => ({
      modelName: 'm',
      layers: [{ name: 'rescaling', className: 'Rescaling', config: { scale, offset } }, conv],
    });
    expect(guessInputScaling(rescale(1 / 255, 0))).toEqual({
      scaling: 'raw',
      reason: 'layer rescaling is Rescaling(1/255): the model takes 0–255 pixels',
    });
    expect(guessInputScaling(rescale(1 / 127.5, -1))?.scaling).toBe('raw');
    const normalization = (mean: number[]) => ({
      modelName: 'm',
      layers: [{ name: 'norm', className: 'Normalization', config: { mean } }, conv],
    });
    expect(guessInputScaling(normalization([123.7, 116.3, 103.5]))).toEqual({
      scaling: 'raw',
      reason: 'layer norm normalises with mean 123.7: it expects 0–255 pixels',
    });
    expect(guessInputScaling(normalization([0.485, 0.456, 0.406]))).toEqual({
      scaling: 'unit',
      reason: 'layer norm normalises with mean 0.485: it expects [0, 1] pixels',
    });
    // After the first weighted layer a Rescaling is not preprocessing.
    expect(
      guessInputScaling({
        modelName: 'm',
        layers: [conv, { name: 'late', className: 'Rescaling', config: { scale: 1 / 255 } }],
      }),
    ).toBe(null);
  });

  it('reads metadata and Keras Applications names', () => {
    expect(
      guessInputScaling({
        modelName: 'm',
        layers: [conv],
        metadata: { preprocessing: 'torchvision ImageNet mean/std' },
      }),
    ).toEqual({ scaling: 'imagenet', reason: 'metadata preprocessing = "torchvision ImageNet mean/std"' });
    expect(
      guessInputScaling({ modelName: 'm', layers: [conv], metadata: { input_range: '[-1, 1]' } })?.scaling,
    ).toBe('symmetric');
    expect(guessInputScaling({ modelName: 'vgg16', layers: [conv] })).toEqual({
      scaling: 'caffe',
      reason: "model vgg16 is Keras's vgg16, which takes caffe-style BGR pixels",
    });
    expect(guessInputScaling({ modelName: 'mobilenetv2_1.00_224', layers: [conv] })?.scaling).toBe(
      'symmetric',
    );
  });

  it('raw feeds the model 0–255 pixels', () => {
    expect(normalizationOf('raw')).toEqual({ scale: 255, offset: 0, scaling: 'raw' });
  });
});
