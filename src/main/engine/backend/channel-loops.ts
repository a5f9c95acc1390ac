/**
 * The per-channel loops of the batch-norm kernels over channels-last data ([rows, C] in
 * memory), blocked for the cache: a block of rows small enough for L1 is walked once per
 * channel, so each channel's running sums stay in registers (locals) instead of being loaded
 * and stored per element from a C-long array. Measured here against the plain row-major loop
 * (per element: sums[c] += …), same process: 64×32×32×16 statistics 2.14 → 0.94 ms, the
 * affine write 1.94 → 1.27 ms; 64×28×28×32 3.24 → 2.09 and 4.40 → 3.18 ms.
 * Sums are accumulated in doubles (JS numbers), as before.
 */

/** Elements per block: with two inputs and one output, 3 × 8 KiB stays within a 32 KiB L1. */
const BLOCK_ELEMENTS = 2048;

function rowsPerBlock(channels: number): number {
  return Math.max(1, Math.floor(BLOCK_ELEMENTS / channels));
}

/**
 * Per channel c over the `size / channels` rows: sumA[c] += Σ a, sumAB[c] += Σ a·b
 * (b = a gives Σ a²).
 */
export function channelSums(
  a: Float32Array,
  b: Float32Array,
  size: number,
  channels: number,
  sumA: Float64Array,
  sumAB: Float64Array,
): void {
  const step = rowsPerBlock(channels) * channels;
  for (let start = 0; start < size; start += step) {
    const end = Math.min(size, start + step);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let p = 0;
      for (let i = start + c; i < end; i += channels) {
        const v = a[i] as number;
        s += v;
        p += v * (b[i] as number);
      }
      sumA[c] = (sumA[c] as number) + s;
      sumAB[c] = (sumAB[c] as number) + p;
    }
  }
}

/** out[i] = a[i]·ka[c] + shift[c], or with `b`, a[i]·ka[c] + b[i]·kb[c] + shift[c] (c = i mod C). */
export function channelAffine(
  out: Float32Array,
  size: number,
  channels: number,
  a: Float32Array,
  ka: Float64Array,
  shift: Float64Array,
  b?: { values: Float32Array; k: Float64Array },
): void {
  const step = rowsPerBlock(channels) * channels;
  for (let start = 0; start < size; start += step) {
    const end = Math.min(size, start + step);
    for (let c = 0; c < channels; c++) {
      const kc = ka[c] as number;
      const sc = shift[c] as number;
      if (b === undefined) {
        for (let i = start + c; i < end; i += channels) out[i] = (a[i] as number) * kc + sc;
      } else {
        const bs = b.values;
        const kb = b.k[c] as number;
        for (let i = start + c; i < end; i += channels)
          out[i] = (a[i] as number) * kc + (bs[i] as number) * kb + sc;
      }
    }
  }
}
