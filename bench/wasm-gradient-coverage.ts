/**
 * Lists the layer probes (forward in training mode + gradients + optimizer step) that fail
 * on a backend, to find out which kernels the wasm backend lacks for training.
 *
 *   npx tsx bench/wasm-gradient-coverage.ts            # wasm as tfjs ships it
 *   npx tsx bench/wasm-gradient-coverage.ts --pollard  # with Pollard's kernels and gradients
 *   npx tsx bench/wasm-gradient-coverage.ts --backend cpu [--pollard]
 */
import { parseArgs } from 'node:util';
import { tf } from '../src/main/engine/tf';
import {
  GRADIENT_PROBES,
  findGradientFailures,
  kernelsUsedBy,
} from '../src/main/engine/backend/gradient-coverage';
import { registerDilatedConvGradients } from '../src/main/engine/backend/dilated-conv-gradients';
import { wasmDirectory } from '../src/main/engine/backend/wasm-backend';
import { registerWasmTrainingKernels } from '../src/main/engine/backend/wasm-kernels';

const { values } = parseArgs({
  options: { backend: { type: 'string', default: 'wasm' }, pollard: { type: 'boolean', default: false } },
});
const wasm = await import('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(`${wasmDirectory()}/`);
if (values.pollard) {
  registerWasmTrainingKernels();
  registerDilatedConvGradients();
}
if (!(await tf.setBackend(values.backend))) throw new Error(`backend ${values.backend} did not initialise`);

// Which kernels the probes need that the backend does not have (precise, unlike the first
// error a failing probe reports).
const missing = new Map<string, string[]>();
for (const probe of GRADIENT_PROBES) {
  // A probe that fails on the reference too (a tfjs-core limitation) is reported below.
  const used = await kernelsUsedBy(probe).catch(() => []);
  for (const kernel of used) {
    if (tf.getKernel(kernel, values.backend) !== undefined) continue;
    missing.set(kernel, [...(missing.get(kernel) ?? []), probe.name]);
  }
}
console.log(`kernels the probes need that ${values.backend} lacks: ${missing.size === 0 ? 'none' : ''}`);
for (const [kernel, probes] of missing) console.log(`  ${kernel.padEnd(38)} ${probes.join(', ')}`);

const failures = findGradientFailures();
console.log(
  `${values.backend}${values.pollard ? ' with Pollard kernels' : ''}: ` +
    `${GRADIENT_PROBES.length - failures.length}/${GRADIENT_PROBES.length} probes train`,
);
for (const failure of failures) console.log(`FAIL ${failure.probe.padEnd(40)} ${failure.message}`);
