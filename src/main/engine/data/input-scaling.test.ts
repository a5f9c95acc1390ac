import { describe, expect, it } from 'vitest';
import { compressSpecSchema, evaluateSpecSchema } from '../../../shared/jobs';
import { pollardMetadataEntry, readPollardMetadata } from '../model/model-metadata';
import { normalizationOf } from './input-scaling';
import { makeBatch } from './pipeline';

/** One 1×1 RGB image: R 255, G 128, B 0. */
const split = { images: new Uint8Array([255, 128, 0]), labels: new Uint8Array([0]), count: 1 };

function pixel(scaling: 'unit' | 'symmetric' | 'imagenet' | 'caffe'): number[] {
  const batch = makeBatch(split, [1, 1, 3], [0], 2, { normalization: normalizationOf(scaling) });
  const values = Array.from(batch.x.dataSync());
  batch.x.dispose();
  batch.y.dispose();
  return values.map((v) => Number(v.toFixed(4)));
}

describe('input scaling', () => {
  it('scales pixels as each convention does', () => {
    expect(pixel('unit')).toEqual([1, 0.502, 0]);
    expect(pixel('symmetric')).toEqual([1, 0.0039, -1]);
    // (x/255 − mean) / std per RGB channel.
    expect(pixel('imagenet')).toEqual([2.2489, 0.2052, -1.8044]);
    // BGR order, 0–255 minus the BGR mean.
    expect(pixel('caffe')).toEqual([-103.939, 11.221, 131.32]);
  });

  it('is stored in exported model metadata by name and read back per channel', () => {
    const entry = pollardMetadataEntry({ normalization: normalizationOf('caffe') })!;
    const read = readPollardMetadata(JSON.parse(JSON.stringify(entry)), 'model.json');
    expect(read.normalization).toEqual(normalizationOf('caffe'));
    expect(read.normalization!.reverseChannels).toBe(true);
  });

  it('is a job option of compress and evaluate (recorded with the run spec)', () => {
    const spec = compressSpecSchema.parse({
      kind: 'compress',
      model: '/m',
      data: '/d',
      out: '/r',
      method: 'quantize',
      inputScaling: 'imagenet',
    });
    expect(spec.inputScaling).toBe('imagenet');
    expect(() =>
      evaluateSpecSchema.parse({ kind: 'evaluate', model: '/m', data: '/d', inputScaling: 'bgr' }),
    ).toThrow();
  });
});
