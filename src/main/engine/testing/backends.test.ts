import { describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { availableTestBackends, describeEachBackend } from './backends';

describe('availableTestBackends', () => {
  it('has cpu and wasm here, in ladder order', async () => {
    const backends = await availableTestBackends({});
    expect(backends.filter((name) => name !== 'tensorflow')).toEqual(['wasm', 'cpu']);
  });

  it('narrows to POLLARD_TEST_BACKENDS and refuses names it cannot honour', async () => {
    expect(await availableTestBackends({ POLLARD_TEST_BACKENDS: 'cpu' })).toEqual(['cpu']);
    expect(await availableTestBackends({ POLLARD_TEST_BACKENDS: ' cpu , wasm ' })).toEqual(['wasm', 'cpu']);
    expect(() => availableTestBackends({ POLLARD_TEST_BACKENDS: 'webgl' })).toThrow(
      'POLLARD_TEST_BACKENDS: unknown backend "webgl"; use tensorflow, webgpu, wasm or cpu',
    );
  });
});

const seen: string[] = [];

await describeEachBackend('a numeric test', (backend) => {
  it('runs with its backend selected', () => {
    expect(tf.getBackend()).toBe(backend);
    seen.push(backend);
    // A convolution gradient, which needs Pollard's kernels on wasm.
    const grad = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.conv2d(x as tf.Tensor4D, tf.ones([2, 2, 1, 1]), 1, 'valid')),
    );
    const filterGrad = tf.grad((w: tf.Tensor) =>
      tf.sum(tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')),
    );
    expect(Array.from(grad(tf.ones([1, 3, 3, 1])).dataSync())).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    expect(Array.from(filterGrad(tf.ones([2, 2, 1, 1])).dataSync())).toEqual([4, 4, 4, 4]);
  });
});

describe('describeEachBackend', () => {
  it('ran the body once per backend present', async () => {
    expect(seen).toEqual(await availableTestBackends({}));
  });
});
