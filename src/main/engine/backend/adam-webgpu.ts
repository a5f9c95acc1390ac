/**
 * One Adam step for one variable on the webgpu backend in three shaders instead of tfjs's ~14
 * kernels (measured on an NVIDIA H200: tfjs's WebGPU backend pays a fixed cost per dispatch,
 * and a LeNet step was 308 dispatches, ~50 ms):
 *   m' = β1·m + (1 − β1)·g,  v' = β2·v + (1 − β2)·g²,
 *   value' = value − lr · (m'/(1 − β1ᵗ)) / (√(v'/(1 − β2ᵗ)) + ε)
 * 1 − β is computed in double and rounded once, as tfjs does (in float32, 1 − f32(0.999) is
 * 1.3e-5 off). β1ᵗ and β2ᵗ are read by the shader from AdamOptimizer's own scalar variables, so nothing is
 * read back to the CPU (a GPU backend in Node cannot read synchronously).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';

/** The parts of tfjs-backend-webgpu's WebGPUBackend and WebGPUProgram used here. */
interface WebgpuProgramLike {
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  size: boolean;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey: string;
  getUserCode(): string;
}
interface WebgpuRunner {
  runWebGPUProgram(
    program: WebgpuProgramLike,
    inputs: TensorInfo[],
    outputDtype: 'float32',
    uniforms: { type: 'float32'; data: number[] }[],
  ): TensorInfo;
}

const WORKGROUP: [number, number, number] = [64, 1, 1];

function program(
  key: 'adam-m' | 'adam-v' | 'adam-value',
  variableNames: string[],
  uniforms: string,
  outputShape: number[],
  body: string,
): WebgpuProgramLike {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    uniforms,
    workgroupSize: WORKGROUP,
    size: true,
    outputShape,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WORKGROUP[0]), 1, 1],
    shaderKey: `pollard-${key}`,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

export interface AdamWebgpuAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/** The new value, m and v of one variable (tensors the caller assigns and disposes). */
export function adamUpdateWebgpu(
  value: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  gradient: tf.Tensor,
  accBeta1: tf.Tensor,
  accBeta2: tf.Tensor,
  attrs: AdamWebgpuAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const backend = tf.backend() as unknown as WebgpuRunner;
  const shape = [...value.shape];
  const run = (p: WebgpuProgramLike, inputs: tf.Tensor[], uniforms: number[]): tf.Tensor =>
    tf.engine().makeTensorFromTensorInfo(
      backend.runWebGPUProgram(
        p,
        inputs,
        'float32',
        uniforms.map((u) => ({ type: 'float32', data: [u] })),
      ),
    );
  // A moving average: β·s + (1 − β)·g, or of g² for the second moment.
  const moment = (key: 'adam-m' | 'adam-v', s: tf.Tensor, beta: number, of: 'g' | 'g * g'): tf.Tensor =>
    run(
      program(
        key,
        ['S', 'G'],
        'beta : f32, rest : f32,',
        shape,
        'let g = getGByOutputIndex(index);\n' +
          `setOutputAtIndex(index, uniforms.beta * getSByOutputIndex(index) + uniforms.rest * ${of});`,
      ),
      [s, gradient],
      [beta, 1 - beta],
    );
  const newM = moment('adam-m', m, attrs.beta1, 'g');
  const newV = moment('adam-v', v, attrs.beta2, 'g * g');
  const newValue = run(
    program(
      'adam-value',
      ['X', 'M', 'V', 'B', 'C'],
      'lr : f32, epsilon : f32,',
      shape,
      'let mHat = getMByOutputIndex(index) / (1.0 - B[0]);\n' +
        'let vHat = getVByOutputIndex(index) / (1.0 - C[0]);\n' +
        'setOutputAtIndex(index, getXByOutputIndex(index) - uniforms.lr * mHat / (sqrt(vHat) + uniforms.epsilon));',
    ),
    [value, newM, newV, accBeta1, accBeta2],
    [attrs.learningRate, attrs.epsilon],
  );
  return [newValue, newM, newV];
}
