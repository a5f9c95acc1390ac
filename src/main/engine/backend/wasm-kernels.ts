/**
 * Training kernels that @tensorflow/tfjs-backend-wasm lacks (Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput, ...).
 * TODO(backend): implement; until then CNN training on wasm fails with "kernel not found".
 */
export function registerWasmTrainingKernels(): void {}
