/**
 * Runs numeric tests on every backend present, so the same assertions hold for cpu (tfjs's
 * reference), wasm (with Pollard's training kernels) and tensorflow where it loads.
 *
 * Use it with top-level await in a test file:
 *
 *   import { it, expect } from 'vitest';
 *   import { tf } from '../tf';
 *   import { describeEachBackend } from '../testing/backends';
 *
 *   await describeEachBackend('softmax', (backend) => {
 *     it('sums to one', () => {
 *       // tf.getBackend() === backend here; make tensors inside the test (a tensor
 *       // belongs to the backend it was made on).
 *       expect(tf.sum(tf.softmax(tf.tensor1d([1, 2, 3]))).dataSync()[0]).toBeCloseTo(1, 6);
 *     });
 *   });
 *
 * Titles read "softmax on cpu", "softmax on wasm", ... `POLLARD_TEST_BACKENDS=cpu,wasm`
 * narrows the set (a listed backend that is not present is an error, not a silent skip).
 * The dilation-aware convolution gradients are installed, as `initBackend` does for jobs.
 */
import { beforeAll, describe } from 'vitest';
import type { BackendName } from '../../../shared/types';
import { tf } from '../tf';
import { BACKEND_ORDER } from '../backend/ladder';
import { registerDilatedConvGradients } from '../backend/dilated-conv-gradients';
import { probeTensorflow } from '../backend/tensorflow-rung';
import { registerWasmBackend } from '../backend/wasm-backend';
import { probeWebgpu } from '../backend/webgpu-rung';

let present: Promise<BackendName[]> | undefined;

async function loads(name: BackendName, env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    if (name === 'wasm') await registerWasmBackend();
    // WebGPU (forced, so SwiftShader counts) only when asked for by name: on a software adapter
    // it is slow, and `npm run test:webgpu` runs the suites that matter there.
    if (name === 'webgpu') {
      if (!(requested(env) ?? []).includes('webgpu')) return false;
      if (!(await probeWebgpu(true)).ok) return false;
    }
    if (name === 'tensorflow') {
      const outcome = await probeTensorflow();
      // Where tfjs-node-gpu loads without a CUDA device TensorFlow runs on the CPU; its
      // kernels are still worth testing, so only a module that did not load is left out.
      if (!outcome.ok && !outcome.reason.startsWith('loaded, but no CUDA device found')) return false;
    }
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

function requested(env: NodeJS.ProcessEnv): BackendName[] | undefined {
  const list = env.POLLARD_TEST_BACKENDS;
  if (list === undefined || list.trim() === '') return undefined;
  const names = list.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(BACKEND_ORDER as readonly string[]).includes(name)) {
      throw new Error(
        `POLLARD_TEST_BACKENDS: unknown backend "${name}"; use tensorflow, webgpu, wasm or cpu`,
      );
    }
  }
  return names as BackendName[];
}

/**
 * The backends this process can run tests on, in ladder order (tensorflow, wasm, cpu):
 * cpu and wasm here; tensorflow where @tensorflow/tfjs-node-gpu loads.
 */
export function availableTestBackends(env: NodeJS.ProcessEnv = process.env): Promise<BackendName[]> {
  present ??= (async () => {
    registerDilatedConvGradients();
    const previous = (tf.engine() as unknown as { backendName: string | null }).backendName;
    const found: BackendName[] = [];
    for (const name of BACKEND_ORDER) if (await loads(name, env)) found.push(name);
    if (previous !== null && tf.findBackend(previous) !== null) await tf.setBackend(previous);
    return found;
  })();
  const wanted = requested(env);
  if (wanted === undefined) return present;
  return present.then((found) => {
    const absent = wanted.filter((name) => !found.includes(name));
    if (absent.length > 0) {
      throw new Error(
        `POLLARD_TEST_BACKENDS: ${absent.join(', ')} not present here (present: ${found.join(', ')})`,
      );
    }
    return found.filter((name) => wanted.includes(name));
  });
}

/**
 * `describe(`${name} on ${backend}`)` once per available backend, with that backend
 * selected before its tests run. Await it at the top level of the test file.
 */
export async function describeEachBackend(name: string, body: (backend: BackendName) => void): Promise<void> {
  const backends = await availableTestBackends();
  for (const backend of backends) {
    describe(`${name} on ${backend}`, () => {
      beforeAll(async () => {
        if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
      });
      body(backend);
    });
  }
}
