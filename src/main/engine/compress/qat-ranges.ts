/**
 * Activation ranges learned during QAT: a moving average of each layer output's min and max, as
 * PyTorch's MovingAverageMinMaxObserver keeps them (the first observation is taken as it is,
 * then range ← range + c · (batch range − range) with averaging constant c = 0.01). TensorFlow's
 * fake-quant layers keep the same kind of exponential moving average.
 *
 * Observed on every `every`-th training batch (the first included), in inference mode (BatchNorm
 * on its moving statistics, as the exported model computes) and with the fake-quantized weights
 * in place. The ranges travel with the run in model.json's `producedBy` under QAT_RANGES_KEY, so
 * `export --format onnx --quantize int8` of a QAT run uses them instead of calibrating.
 */
import { isRecord } from '../model/safe-json';
import { tf, tfl, type LayersModel, type Tensor } from '../tf';

export interface RecordedRange {
  min: number;
  max: number;
}

export const QAT_RANGES_KEY = 'qatActivationRanges';
/** PyTorch's MovingAverageMinMaxObserver default. */
export const RANGE_AVERAGING = 0.01;
/** Observe one training batch in this many (a forward pass costs about a third of a step). */
export const OBSERVE_EVERY = 4;

export class ActivationRangeObserver {
  private readonly probe: LayersModel;
  private readonly names: string[];
  private readonly inputName: string;
  private readonly ranges = new Map<string, RecordedRange>();
  private seen = 0;

  constructor(
    model: LayersModel,
    private readonly every = OBSERVE_EVERY,
    private readonly averaging = RANGE_AVERAGING,
  ) {
    const layers = model.layers.filter(
      (l) =>
        l.getClassName() !== 'InputLayer' && l.inboundNodes.length === 1 && !(l instanceof tfl.LayersModel),
    );
    this.names = layers.map((l) => l.name);
    this.inputName = model.inputs[0]?.sourceLayer.name ?? 'input';
    this.probe = tfl.model({
      inputs: model.inputs,
      outputs: layers.map((l) => l.output as tfl.SymbolicTensor),
    });
  }

  /** Observes a batch when it is one of every `every`; returns whether it did. */
  async observe(x: Tensor): Promise<boolean> {
    if (this.seen++ % this.every !== 0) return false;
    const extremes = tf.tidy(() => {
      const outputs = this.probe.predict(x) as Tensor | Tensor[];
      const all = [x, ...(Array.isArray(outputs) ? outputs : [outputs])];
      return tf.stack(all.map((t) => tf.stack([tf.min(t), tf.max(t)])));
    });
    const values = (await extremes.data()) as Float32Array;
    extremes.dispose();
    [this.inputName, ...this.names].forEach((name, i) =>
      this.update(name, values[2 * i]!, values[2 * i + 1]!),
    );
    return true;
  }

  private update(name: string, min: number, max: number): void {
    if (!Number.isFinite(min) || !Number.isFinite(max)) return;
    const old = this.ranges.get(name);
    const c = this.averaging;
    this.ranges.set(
      name,
      old ? { min: old.min + c * (min - old.min), max: old.max + c * (max - old.max) } : { min, max },
    );
  }

  /** The ranges so far, by layer name (the model input under its InputLayer's name). */
  toJSON(): Record<string, RecordedRange> {
    return Object.fromEntries(this.ranges);
  }

  /** Resumed training: the ranges and batch count from a checkpoint's hook state. */
  restore(state: unknown): void {
    if (!isRecord(state)) return;
    const ranges = recordedRanges(state.ranges);
    for (const [name, range] of Object.entries(ranges ?? {})) this.ranges.set(name, range);
    if (typeof state.seen === 'number' && Number.isInteger(state.seen)) this.seen = state.seen;
  }

  state(): { ranges: Record<string, RecordedRange>; seen: number } {
    return { ranges: this.toJSON(), seen: this.seen };
  }

  dispose(): void {
    // The probe shares the model's layers and weights: nothing of its own to free.
    this.ranges.clear();
  }
}

/** Validated ranges from JSON (model.json's producedBy, a checkpoint): undefined if malformed. */
export function recordedRanges(raw: unknown): Record<string, RecordedRange> | undefined {
  if (!isRecord(raw)) return undefined;
  const out: Record<string, RecordedRange> = {};
  for (const [name, r] of Object.entries(raw)) {
    if (!isRecord(r) || typeof r.min !== 'number' || typeof r.max !== 'number') return undefined;
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max) return undefined;
    out[name] = { min: r.min, max: r.max };
  }
  return out;
}
