/**
 * tfjs weight layouts → ONNX's: a convolution's HWIO kernel → OIHW, a depthwise HW·C·M kernel →
 * (C·M)·1·H·W. Plain loops over Float32Arrays (no tensors: the exporter works from values read
 * beforehand, which any backend can give).
 */
/** HWIO → OIHW. */
export function convKernel(
  kernel: Float32Array,
  kh: number,
  kw: number,
  cin: number,
  cout: number,
): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = kernel[((y * kw + x) * cin + i) * cout + o]!;
  return out;
}

/** HW·C·M → (C·M)·1·H·W: output channel c·M + m reads input channel c, as tfjs orders them. */
export function depthwiseKernel(
  kernel: Float32Array,
  kh: number,
  kw: number,
  channels: number,
  multiplier: number,
): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let m = 0; m < multiplier; m++) {
          out[((c * multiplier + m) * kh + y) * kw + x] =
            kernel[((y * kw + x) * channels + c) * multiplier + m]!;
        }
  return out;
}
