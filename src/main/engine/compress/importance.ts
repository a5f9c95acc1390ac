/**
 * Importance criteria: a score per prunable unit of every group; low scores are pruned first.
 *
 * Each criterion scores the channels of individual layers, then a unit's score is the MEAN of the
 * scores of its member layers (a residual unit spans several producers and BNs; the mean keeps
 * groups of different sizes comparable). Global ranking across groups divides by each group's mean
 * score (pruner.ts).
 *  - l1, l2: norm of the producer's filter (kernel slice for one output channel, bias excluded),
 *    Li et al. 2017.
 *  - bn: |gamma| of the BatchNormalization layers carrying the unit (Network Slimming, Liu et al.
 *    2017); a group without BN on every unit falls back to l2 and says so in `notes`.
 *  - fpgm: Σ_k ‖F_j − F_k‖₂ over the producer's filters (He et al. 2019): filters near the
 *    geometric median are the most replaceable.
 *  - taylor: first-order Taylor expansion of the loss when a channel is removed, |Σ a·∂L/∂a| over a
 *    calibration batch (Molchanov et al. 2019). The activation a is gated at the BN output where the
 *    unit has a BN (a = γx̂ + β, so Σ a·∂L/∂a = γ·∂L/∂γ + β·∂L/∂β), otherwise at the producer output
 *    (a = Wx + b, so Σ a·∂L/∂a = Σ_filter w·∂L/∂w + b·∂L/∂b). Gradients come from tf.variableGrads in
 *    inference mode (BN uses its moving statistics), summed over the batch.
 *  - random: seeded control.
 */
import type { Criterion } from '../../../shared/jobs';
import { usageError } from '../../../shared/errors';
import { tf } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import { outputKind, crossEntropy } from '../train/loss';
import { Rng } from '../util/rng';
import type { DependencyGraph, LayerNode } from './graph';
import { weightKey } from './slicing';

export interface Calibration {
  /** A batch of model inputs, already normalised. */
  x: Tensor;
  /** Class index per sample. */
  labels: ArrayLike<number>;
}

export interface ImportanceOptions {
  criterion: Criterion;
  /** Seed for `random`. */
  seed?: number;
  /** Required for `taylor`. */
  calibration?: Calibration;
  /** Samples per gradient pass for `taylor` (bounds memory). */
  chunkSize?: number;
}

export interface Importance {
  criterion: Criterion;
  /** Group id → score per unit, aligned with `group.units`. */
  scores: Map<string, Float64Array>;
  notes: string[];
}

function weightOf(node: LayerNode, key: string): Tensor | undefined {
  return node.layer.weights.find((w) => weightKey(w.originalName) === key)?.read();
}

/** The producer's weight whose last axis holds its output channels (its layer-table entry says which). */
function outputKernel(node: LayerNode): string {
  return node.pruning?.outputKernel ?? 'kernel';
}

/** The producer's filters as rows: [outChannels, fanIn]. */
function filterRows(node: LayerNode): Tensor {
  const kernel = weightOf(node, outputKernel(node))!;
  const out = kernel.shape[kernel.shape.length - 1]!;
  return tf.transpose(tf.reshape(kernel, [-1, out]));
}

async function producerScores(node: LayerNode, criterion: 'l1' | 'l2' | 'fpgm'): Promise<Float32Array> {
  const scores = tf.tidy(() => {
    const rows = filterRows(node);
    if (criterion === 'l1') return tf.sum(tf.abs(rows), 1);
    if (criterion === 'l2') return tf.sqrt(tf.sum(tf.square(rows), 1));
    const squared = tf.sum(tf.square(rows), 1, true);
    const gram = tf.matMul(rows, rows, false, true);
    const distances = tf.sqrt(tf.relu(tf.sub(tf.add(squared, tf.transpose(squared)), tf.mul(gram, 2))));
    return tf.sum(distances, 1);
  });
  // Read asynchronously: the webgpu backend cannot read synchronously in Node.
  const values = (await scores.data()) as Float32Array;
  scores.dispose();
  return values;
}

/** Accumulates per-layer channel scores into per-unit means. */
class UnitScores {
  private readonly sum: Float64Array;
  private readonly count: Uint32Array;
  constructor(private readonly graph: DependencyGraph) {
    this.sum = new Float64Array(graph.totalElements);
    this.count = new Uint32Array(graph.totalElements);
  }
  addProducer(node: LayerNode, scores: ArrayLike<number>): void {
    node.outputMap.forEach((element, j) => this.add(element, scores[j]!));
  }
  /** BN positions map to units through the BN's input channel map. */
  addPositions(node: LayerNode, scores: ArrayLike<number>): void {
    node.outputMap.forEach((element, p) => this.add(element, scores[p]!));
  }
  private add(element: number, score: number): void {
    const root = this.graph.unitOf(element);
    this.sum[root]! += score;
    this.count[root]! += 1;
  }
  has(root: number): boolean {
    return this.count[root]! > 0;
  }
  mean(root: number): number {
    return this.sum[root]! / Math.max(this.count[root]!, 1);
  }
}

function prunableProducers(graph: DependencyGraph): LayerNode[] {
  const names = new Set(graph.groups.flatMap((group) => group.producers));
  return graph.nodes.filter((node) => names.has(node.name));
}

function memberBatchNorms(graph: DependencyGraph): LayerNode[] {
  const names = new Set(graph.groups.flatMap((group) => group.members));
  // Channelwise layers with a per-channel scale (gamma): BatchNormalization.
  return graph.nodes.filter(
    (node) => node.role === 'channelwise' && names.has(node.name) && weightOf(node, 'gamma') !== undefined,
  );
}

/** Σ over the calibration batch of ∂L/∂v for every trainable variable, keyed by variable name. */
function summedGradients(
  model: LayersModel,
  calibration: Calibration,
  chunkSize: number,
): Map<string, Tensor> {
  const kind = outputKind(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const classes = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1]!;
  const count = calibration.x.shape[0]!;
  const totals = new Map<string, Tensor>();
  for (let start = 0; start < count; start += chunkSize) {
    const size = Math.min(chunkSize, count - start);
    const { value, grads } = tf.variableGrads(() => {
      const x = tf.slice(calibration.x, start, size);
      const labels = tf.tensor1d(Array.from(calibration.labels).slice(start, start + size), 'int32');
      const oneHot = tf.cast(tf.oneHot(labels, classes), 'float32') as tf.Tensor2D;
      const output = model.apply(x, { training: false }) as tf.Tensor2D;
      // Sum over samples (the mean loss times the chunk size) so chunks add up to the batch sum.
      return tf.mul(crossEntropy(kind, oneHot, output), size) as tf.Scalar;
    }, variables);
    value.dispose();
    for (const [name, grad] of Object.entries(grads)) {
      const previous = totals.get(name);
      if (previous) {
        totals.set(name, tf.add(previous, grad));
        previous.dispose();
        grad.dispose();
      } else {
        totals.set(name, grad);
      }
    }
  }
  return totals;
}

function gradientOf(grads: Map<string, Tensor>, node: LayerNode, key: string): Tensor | undefined {
  const weight = node.layer.weights.find((w) => weightKey(w.originalName) === key);
  return weight ? grads.get((weight.read() as tf.Variable).name) : undefined;
}

/** Σ w·g per output channel (last axis) for the given weights of a layer. */
async function gateScores(
  node: LayerNode,
  grads: Map<string, Tensor>,
  keys: string[],
): Promise<Float32Array | undefined> {
  const terms: Tensor[] = [];
  const result = tf.tidy(() => {
    for (const key of keys) {
      const w = weightOf(node, key);
      const g = gradientOf(grads, node, key);
      if (!w || !g) continue;
      const out = w.shape[w.shape.length - 1]!;
      terms.push(tf.sum(tf.reshape(tf.mul(w, g), [-1, out]), 0));
    }
    return terms.length > 0 ? tf.abs(tf.addN(terms)) : undefined;
  });
  if (!result) return undefined;
  const values = (await result.data()) as Float32Array;
  result.dispose();
  return values;
}

export async function computeImportance(
  graph: DependencyGraph,
  options: ImportanceOptions,
): Promise<Importance> {
  const { criterion } = options;
  const notes: string[] = [];
  const producers = prunableProducers(graph);
  const batchNorms = memberBatchNorms(graph);
  const perProducer = new UnitScores(graph);
  const perBatchNorm = new UnitScores(graph);
  let preferBatchNorm = false;

  if (criterion === 'l1' || criterion === 'l2' || criterion === 'fpgm') {
    for (const node of producers) perProducer.addProducer(node, await producerScores(node, criterion));
  } else if (criterion === 'bn') {
    preferBatchNorm = true;
    for (const node of producers) perProducer.addProducer(node, await producerScores(node, 'l2'));
    for (const node of batchNorms) {
      const gamma = weightOf(node, 'gamma');
      if (gamma) {
        const magnitude = tf.tidy(() => tf.abs(gamma));
        perBatchNorm.addPositions(node, await magnitude.data());
        magnitude.dispose();
      }
    }
  } else if (criterion === 'taylor') {
    if (!options.calibration) throw usageError('the taylor criterion needs a calibration batch');
    preferBatchNorm = true;
    const grads = summedGradients(graph.model, options.calibration, options.chunkSize ?? 32);
    try {
      for (const node of producers) {
        const keys = [outputKernel(node), 'bias'];
        const scores = await gateScores(node, grads, keys);
        if (scores) perProducer.addProducer(node, scores);
      }
      for (const node of batchNorms) {
        const scores = await gateScores(node, grads, ['gamma', 'beta']);
        if (scores) perBatchNorm.addPositions(node, scores);
      }
    } finally {
      tf.dispose([...grads.values()]);
    }
  }

  const scores = new Map<string, Float64Array>();
  const rng = new Rng(options.seed ?? 0);
  for (const group of graph.groups) {
    const values = new Float64Array(group.units.length);
    if (criterion === 'random') {
      for (let i = 0; i < values.length; i++) values[i] = rng.next();
    } else {
      const useBatchNorm = preferBatchNorm && group.units.every((root) => perBatchNorm.has(root));
      if (preferBatchNorm && !useBatchNorm) {
        notes.push(
          criterion === 'bn'
            ? `${group.id}: no BatchNormalization on every channel; ranked by the L2 norm of the filters`
            : `${group.id}: no BatchNormalization on every channel; Taylor gate at the layer output`,
        );
      }
      const source = useBatchNorm ? perBatchNorm : perProducer;
      group.units.forEach((root, i) => (values[i] = source.mean(root)));
    }
    scores.set(group.id, values);
  }
  return { criterion, scores, notes };
}
