import { describe, expect, it } from 'vitest';
import { onnxPoolOutput, planPool, type PoolRequest } from './pool-geometry';

const base: PoolRequest = {
  op: 'MaxPool',
  size: [16, 16],
  kernel: [3, 3],
  strides: [2, 2],
  pads: [1, 1, 1, 1],
  ceilMode: false,
  countIncludePad: false,
  nonNegative: false,
};

describe('padded and ceil-mode pools', () => {
  it("computes ONNX's output size, PyTorch's ceil-mode rule included", () => {
    expect(onnxPoolOutput({ n: 16, k: 3, s: 2, before: 1, after: 1 }, false)).toBe(8);
    expect(onnxPoolOutput({ n: 5, k: 2, s: 2, before: 0, after: 0 }, true)).toBe(3);
    expect(onnxPoolOutput({ n: 5, k: 2, s: 2, before: 0, after: 0 }, false)).toBe(2);
    // ceil would start a last window at 6 ≥ 5 + 1: dropped.
    expect(onnxPoolOutput({ n: 5, k: 2, s: 3, before: 1, after: 1 }, true)).toBe(2);
  });

  it("maps to 'same' where TF's windows are ONNX's: odd sizes with pad 1, stride-1 symmetric pads", () => {
    expect(planPool({ ...base, size: [17, 17] })).toEqual({ padding: 'same' });
    expect(planPool({ ...base, strides: [1, 1] })).toEqual({ padding: 'same' });
    expect(planPool({ ...base, kernel: [2, 2], pads: [0, 0, 0, 0], size: [5, 5], ceilMode: true })).toEqual({
      padding: 'same',
    });
    expect(planPool({ ...base, op: 'AveragePool', size: [17, 17] })).toEqual({ padding: 'same' });
  });

  it('uses zero padding for a max-pool of non-negative inputs and an average that counts pads', () => {
    const zeros = {
      padding: 'zeros',
      pads: [
        [1, 1],
        [1, 1],
      ],
    };
    expect(planPool({ ...base, nonNegative: true })).toEqual(zeros);
    expect(planPool({ ...base, op: 'AveragePool', countIncludePad: true })).toEqual(zeros);
    expect(planPool({ ...base, pads: [0, 0, 0, 0] })).toEqual({ padding: 'valid' });
  });

  it('refuses the rest with the reason', () => {
    expect(planPool(base)).toEqual({
      refused:
        "pads [1, 1, 1, 1] on a 16×16 input (output 8×8): TF.js's 'same' padding would place the windows differently, and zero padding would change the maximum of negative inputs (only taken after Relu, Clip(0, …) or a sigmoid)",
    });
    expect(planPool({ ...base, op: 'AveragePool' })).toEqual({
      refused:
        "pads [1, 1, 1, 1] on a 16×16 input (output 8×8): TF.js's 'same' padding would place the windows differently, and zero padding would count the pads in the average (count_include_pad 0)",
    });
    // ceil mode adds a window past the padding: zero padding cannot make it.
    expect(planPool({ ...base, size: [6, 6], ceilMode: true, nonNegative: true })).toEqual({
      refused:
        "pads [1, 1, 1, 1], ceil_mode 1 on a 6×6 input (output 4×4): TF.js's 'same' padding would place the windows differently, and zero padding would change the maximum of negative inputs (only taken after Relu, Clip(0, …) or a sigmoid) or of a ceil-mode window past the padding",
    });
  });
});
