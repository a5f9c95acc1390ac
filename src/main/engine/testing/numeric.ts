/**
 * Numeric helpers shared by the kernel tests: seeded inputs and a relative error, so that every
 * backend's test compares against its reference the same way.
 */

/** mulberry32: a tiny seeded generator, so every run sees the same "random" inputs in [−0.5, 0.5)·scale + offset. */
export function randomArray(size: number, seed: number, scale = 1, offset = 0): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * scale + offset;
  }
  return out;
}

/** ‖a − b‖ / max(‖b‖, floor): the floor keeps values that are zero in theory from counting. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-6): number {
  if (actual.length !== expected.length) {
    throw new Error(`relativeError: ${actual.length} values against ${expected.length}`);
  }
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += ((actual[i] as number) - (expected[i] as number)) ** 2;
    norm += (expected[i] as number) ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), floor);
}
