/** The compression methods, stored weight types and input scalings: the words a spec and its result share. */

export const COMPRESSION_METHODS = [
  'structured',
  'magnitude',
  'quantize',
  'qat',
  'structured+quantize',
] as const;
export type CompressionMethod = (typeof COMPRESSION_METHODS)[number];

/** Post-training weight quantization in the tfjs manifest. */
export const QUANT_DTYPES = ['float16', 'uint16', 'uint8'] as const;
export type QuantDtype = (typeof QUANT_DTYPES)[number];

/** How a model's input pixels are scaled: [0, 1], [−1, 1], ImageNet mean/std, caffe (BGR, 0–255 minus mean), or raw 0–255 (the model rescales itself). */
export const INPUT_SCALINGS = ['unit', 'symmetric', 'imagenet', 'caffe', 'raw'] as const;
export type InputScaling = (typeof INPUT_SCALINGS)[number];
