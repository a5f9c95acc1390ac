/**
 * Sample images for the app's grid: the first `perClass` training images of every class, as PNG.
 */
import sharp from 'sharp';
import type { Dataset } from './types';

export interface PreviewImage {
  label: number;
  width: number;
  height: number;
  channels: number;
  /** A PNG file, base64-encoded. */
  pngBase64: string;
}

/** Class by class (label order), at most `perClass` each, in dataset order within a class. */
export async function previewImages(dataset: Dataset, perClass: number): Promise<PreviewImage[]> {
  if (!(Number.isInteger(perClass) && perClass >= 0)) {
    throw new RangeError(`previewImages: perClass must be a non-negative integer, got ${perClass}`);
  }
  const [height, width, channels] = dataset.shape;
  const sampleBytes = height * width * channels;
  const split = dataset.train;
  const chosen: number[][] = dataset.classNames.map(() => []);
  let remaining = perClass * chosen.length;
  for (let i = 0; i < split.count && remaining > 0; i++) {
    const picks = chosen[split.labels[i]!];
    if (picks !== undefined && picks.length < perClass) {
      picks.push(i);
      remaining -= 1;
    }
  }
  const previews: PreviewImage[] = [];
  for (const [label, indices] of chosen.entries()) {
    for (const index of indices) {
      const pixels = split.images.subarray(index * sampleBytes, (index + 1) * sampleBytes);
      let image = sharp(pixels, { raw: { width, height, channels: channels as 1 | 3 } });
      // Without this sharp writes a grayscale image as RGB.
      if (channels === 1) image = image.toColourspace('b-w');
      const png = await image.png().toBuffer();
      previews.push({ label, width, height, channels, pngBase64: png.toString('base64') });
    }
  }
  return previews;
}
