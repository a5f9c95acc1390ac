/**
 * A small seeded PRNG: xoshiro128** (Blackman & Vigna, 2018) seeded through splitmix32.
 * Its whole state is four uint32 words, so a training checkpoint can save `state()` and resume
 * with `Rng.fromState(...)` to continue the exact same sequence.
 */

const TWO_POW_32 = 4_294_967_296;

/** splitmix32: spreads a 32-bit seed over the four state words (never all zero in practice). */
function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is taken modulo 2^32 (integers only). */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng: seed must be an integer, got ${seed}`);
    const next = splitmix32(seed);
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** Continue a sequence from a saved `state()`. */
  static fromState(state: readonly number[]): Rng {
    if (
      state.length !== 4 ||
      !state.every((word) => Number.isInteger(word) && word >= 0 && word < TWO_POW_32) ||
      state.every((word) => word === 0)
    ) {
      throw new RangeError(`Rng: a state is four uint32 words, not all zero; got [${state.join(', ')}]`);
    }
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = state as [number, number, number, number];
    return rng;
  }

  /** The four state words; `Rng.fromState(rng.state())` continues the same sequence. */
  state(): number[] {
    return [this.a, this.b, this.c, this.d];
  }

  /** A uniform uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c = (this.c ^ this.a) >>> 0;
    this.d = (this.d ^ this.b) >>> 0;
    this.b = (this.b ^ this.c) >>> 0;
    this.a = (this.a ^ this.d) >>> 0;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform integer in [0, n), without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.nextInt: n must be an integer in 1..2^32, got ${n}`);
    }
    // Reject the top partial block of 2^32 so that every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }
}
