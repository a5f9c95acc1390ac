/**
 * An exported model run in ONNX Runtime (CPU) through onnxruntime-node's public async API, to
 * verify exports and measure them. (backend/ort-binding.ts uses the internal synchronous binding
 * for tfjs kernels; exports are checked the way a user would run them.)
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface OrtTensorLike {
  data: unknown;
  dims: readonly number[];
}

interface OrtInferenceSession {
  run(feeds: Record<string, unknown>, fetches?: readonly string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtInferenceSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

let ort: OrtModule | undefined;

function loadOrt(): OrtModule {
  ort ??= require('onnxruntime-node') as OrtModule;
  return ort;
}

export interface OnnxSessionOptions {
  /** Intra-op threads; default ONNX Runtime's (one per core). */
  threads?: number;
  /** Write the graph ONNX Runtime optimized (its fused kernels) here; for tests. */
  optimizedModelPath?: string;
}

export class OnnxSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtInferenceSession,
  ) {}

  /** Load a serialized model; ONNX Runtime's errors (an invalid graph) are thrown as they are. */
  static async create(model: Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const module = loadOrt();
    const session = await module.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      ...(options.optimizedModelPath ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
    });
    return new OnnxSession(module, session);
  }

  /** Run on one float32 input (`input`); returns the requested outputs' data. */
  async run(
    input: Float32Array,
    dims: readonly number[],
    outputs: readonly string[] = ['output'],
  ): Promise<Float32Array[]> {
    const feeds = { input: new this.ort.Tensor('float32', input, dims) };
    const result = await this.session.run(feeds, outputs);
    return outputs.map((name) => result[name]!.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** NHWC samples → NCHW, for a graph with an NCHW input. */
export function nhwcToNchw(data: Float32Array, batch: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let n = 0; n < batch; n++) {
    const base = n * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) out[base + ch * plane + p] = data[base + p * c + ch]!;
    }
  }
  return out;
}
