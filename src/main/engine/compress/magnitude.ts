/**
 * Unstructured magnitude pruning (Han et al. 2015; schedule of Zhu & Gupta 2017): the smallest
 * weights of every kernel are set to zero and held at zero by a mask that is re-applied after each
 * optimizer step. Shapes do not change, so the kernels stay dense: the gain is in the compressed
 * (gzipped) file, not in latency, on TensorFlow.js.
 *
 * Prunable weights: the kernels of Conv1D/Conv2D, Dense, DepthwiseConv2D and SeparableConv2D
 * (both kernels). Biases and BatchNormalization parameters are left alone (few, and sensitive).
 * Scope `layer` gives every kernel the same sparsity; `global` ranks all kernels' magnitudes together.
 */
import { usageError } from '../../../shared/errors';
import { tf } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import type { TrainHooks } from '../train/loop';
import { weightKey } from './slicing';

const PRUNABLE_KERNELS = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel']);
const PRUNABLE_LAYERS = new Set(['Conv1D', 'Conv2D', 'Dense', 'DepthwiseConv2D', 'SeparableConv2D']);

export interface SparsitySchedule {
  initialSparsity: number;
  finalSparsity: number;
  /** Step at which pruning starts (t0). */
  beginStep: number;
  /** Step at which the final sparsity is reached (t0 + nΔt). */
  endStep: number;
  /** Masks are recomputed every `frequency` steps (Δt). */
  frequency: number;
}

/** Zhu & Gupta 2017: s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³, held at s_f after the end. */
export function polynomialSparsity(step: number, schedule: SparsitySchedule): number {
  const { initialSparsity: si, finalSparsity: sf, beginStep, endStep } = schedule;
  if (step <= beginStep) return si;
  if (step >= endStep) return sf;
  const progress = (step - beginStep) / (endStep - beginStep);
  return sf + (si - sf) * (1 - progress) ** 3;
}

/**
 * The schedule used during fine-tuning: prune from step 0, reach the final sparsity after three
 * quarters of the steps (the last quarter recovers at the final sparsity), 20 mask updates.
 */
export function defaultSchedule(finalSparsity: number, totalSteps: number): SparsitySchedule {
  const endStep = Math.max(1, Math.round(totalSteps * 0.75));
  return {
    initialSparsity: 0,
    finalSparsity,
    beginStep: 0,
    endStep,
    frequency: Math.max(1, Math.round(endStep / 20)),
  };
}

export interface LayerSparsity {
  layer: string;
  weight: string;
  count: number;
  zeros: number;
  sparsity: number;
}

interface PrunableWeight {
  layer: string;
  name: string;
  variable: tf.Variable;
}

function prunableWeights(model: LayersModel, ignoredLayers: readonly string[]): PrunableWeight[] {
  const ignored = new Set(ignoredLayers);
  const unknown = [...ignored].filter((name) => !model.layers.some((layer) => layer.name === name));
  if (unknown.length > 0) throw usageError(`ignored layers not found in the model: ${unknown.join(', ')}`);
  const weights: PrunableWeight[] = [];
  for (const layer of model.layers) {
    if (!PRUNABLE_LAYERS.has(layer.getClassName()) || ignored.has(layer.name)) continue;
    for (const weight of layer.weights) {
      if (!PRUNABLE_KERNELS.has(weightKey(weight.originalName))) continue;
      weights.push({ layer: layer.name, name: weight.originalName, variable: weight.read() as tf.Variable });
    }
  }
  return weights;
}

/** |w| of the k-th smallest magnitude, where k = ⌊sparsity · n⌋; weights at or below it are pruned. */
function threshold(magnitudes: Float32Array, sparsity: number): number {
  const k = Math.floor(sparsity * magnitudes.length + 1e-9);
  if (k <= 0) return -1;
  const sorted = Float32Array.from(magnitudes).sort();
  return sorted[k - 1]!;
}

export class MagnitudePruner {
  private readonly weights: PrunableWeight[];
  private readonly masks = new Map<string, Tensor>();
  private current = 0;

  constructor(
    readonly model: LayersModel,
    readonly options: { scope: 'global' | 'layer'; ignoredLayers?: readonly string[] },
  ) {
    this.weights = prunableWeights(model, options.ignoredLayers ?? []);
    if (this.weights.length === 0) throw usageError(`${model.name}: no Conv or Dense kernels to prune`);
  }

  /** The sparsity the masks were last computed for. */
  get sparsity(): number {
    return this.current;
  }

  /** Recompute masks from the current magnitudes at the given sparsity, and apply them. */
  async prune(sparsity: number): Promise<void> {
    if (!(sparsity >= 0 && sparsity < 1))
      throw usageError(`sparsity must be at least 0 and below 1, got ${sparsity}`);
    // Read asynchronously: the webgpu backend cannot read synchronously in Node.
    const magnitudes = (await Promise.all(this.weights.map((w) => w.variable.data()))).map((values) =>
      (values as Float32Array).map(Math.abs),
    );
    const thresholds =
      this.options.scope === 'global'
        ? (() => {
            const all = new Float32Array(magnitudes.reduce((sum, m) => sum + m.length, 0));
            let offset = 0;
            for (const m of magnitudes) {
              all.set(m, offset);
              offset += m.length;
            }
            const t = threshold(all, sparsity);
            return magnitudes.map(() => t);
          })()
        : magnitudes.map((m) => threshold(m, sparsity));
    this.weights.forEach((weight, i) => {
      const m = magnitudes[i]!;
      const mask = new Float32Array(m.length);
      for (let j = 0; j < m.length; j++) mask[j] = m[j]! > thresholds[i]! ? 1 : 0;
      this.masks.get(weight.name)?.dispose();
      this.masks.set(weight.name, tf.tensor(mask, weight.variable.shape));
    });
    this.current = sparsity;
    this.applyMasks();
  }

  /**
   * Take the zeros already in the kernels as the masks (a run resumed from a checkpoint of a
   * pruned model); the schedule then continues from the sparsity found.
   */
  async adoptZeros(): Promise<void> {
    let zeros = 0;
    let count = 0;
    for (const weight of this.weights) {
      const values = await weight.variable.data();
      const mask = new Float32Array(values.length);
      for (let j = 0; j < values.length; j++) {
        mask[j] = values[j] === 0 ? 0 : 1;
        if (values[j] === 0) zeros++;
      }
      count += values.length;
      this.masks.get(weight.name)?.dispose();
      this.masks.set(weight.name, tf.tensor(mask, weight.variable.shape));
    }
    this.current = zeros / Math.max(count, 1);
  }

  /** Multiply every kernel by its mask (after an optimizer step moved the pruned weights). */
  applyMasks(): void {
    tf.tidy(() => {
      for (const weight of this.weights) {
        const mask = this.masks.get(weight.name);
        if (mask) weight.variable.assign(tf.mul(weight.variable, mask));
      }
    });
  }

  /**
   * Training hooks: masks are re-applied after every step; with a schedule they are recomputed at
   * the polynomial sparsity every `frequency` steps (and at the end step). Without masks yet, the
   * first batch adopts the kernels' zeros as masks (so a resumed run keeps what it had pruned).
   */
  hooks(schedule?: SparsitySchedule | ((totalSteps: number) => SparsitySchedule)): TrainHooks {
    return {
      // Before the first batch (after a resumed run restored its weights): masks from the zeros.
      beforeBatch: async () => {
        if (this.masks.size === 0) await this.adoptZeros();
      },
      afterStep: async (_model, step, totalSteps) => {
        const resolved = typeof schedule === 'function' ? schedule(totalSteps) : schedule;
        if (resolved) {
          const due = step >= resolved.beginStep && (step - resolved.beginStep) % resolved.frequency === 0;
          const target = polynomialSparsity(step, resolved);
          if ((due || step === resolved.endStep) && target > this.current) {
            await this.prune(target);
            return;
          }
        }
        this.applyMasks();
      },
    };
  }

  /** Zeros per kernel, counted from the weights themselves. */
  async report(): Promise<LayerSparsity[]> {
    const all = await Promise.all(this.weights.map((weight) => weight.variable.data()));
    return this.weights.map((weight, i) => {
      const values = all[i]!;
      let zeros = 0;
      for (const v of values) if (v === 0) zeros++;
      return {
        layer: weight.layer,
        weight: weightKey(weight.name),
        count: values.length,
        zeros,
        sparsity: zeros / Math.max(values.length, 1),
      };
    });
  }

  dispose(): void {
    for (const mask of this.masks.values()) mask.dispose();
    this.masks.clear();
  }
}

/** Overall sparsity of a report (zeros over all prunable weights). */
export function overallSparsity(report: LayerSparsity[]): number {
  const count = report.reduce((sum, r) => sum + r.count, 0);
  return report.reduce((sum, r) => sum + r.zeros, 0) / Math.max(count, 1);
}
