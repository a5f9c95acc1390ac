/** The compression methods and stored weight types: the words a compress spec and its result share. */

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
