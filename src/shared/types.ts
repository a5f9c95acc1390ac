/** Plain data that crosses process boundaries: engine → job host → CLI / renderer. */
import type { InputScaling } from './methods';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendRung {
  name: BackendName;
  /** `used`: this job runs on it; `available`: it would load; `unavailable`: see `reason`. */
  status: 'used' | 'available' | 'unavailable' | 'not-tried';
  reason?: string;
  /** e.g. "CUDA: NVIDIA RTX A6000", "SIMD, 1 thread", "pure JavaScript". */
  device?: string;
}

export interface BackendReport {
  used: BackendName;
  device: string;
  rungs: BackendRung[];
}

export type DatasetFormat = 'idx' | 'cifar-10' | 'cifar-100' | 'image-folder';

export interface SplitInfo {
  count: number;
  /** Samples per class, indexed like `classNames`. */
  perClass: number[];
}

export interface DatasetInfo {
  format: DatasetFormat;
  source: string;
  /** [height, width, channels] of every sample as the model sees it. */
  shape: [number, number, number];
  classNames: string[];
  train: SplitInfo;
  test?: SplitInfo;
  /** Human-readable notes, e.g. the resize policy that was applied. */
  notes: string[];
}

export type ModelFormat = 'tfjs-layers' | 'keras-h5' | 'keras-v3' | 'keras-weights-h5' | 'onnx';

export interface LayerSummary {
  name: string;
  className: string;
  outputShape: (number | null)[] | (number | null)[][];
  params: number;
  trainableParams: number;
  /** Multiply-accumulates for one sample; see README "How MACs are counted". */
  macs: number;
  inbound: string[];
}

export interface ModelSummary {
  format: ModelFormat;
  source: string;
  name: string;
  inputShape: (number | null)[];
  outputShape: (number | null)[];
  /** Every input and output shape (a GAN generator or a multi-head model has several). */
  inputs?: (number | null)[][];
  outputs?: (number | null)[][];
  /** Output units of the classifier (last dimension of the output). */
  classes: number;
  layers: LayerSummary[];
  params: number;
  trainableParams: number;
  macs: number;
  /** Bytes on disk of the model as stored (model.json + shards, or the single file). */
  sizeBytes: number;
  sizeGzipBytes: number;
  /** Weight dtypes in the stored manifest, e.g. ["float32"] or ["uint8"]. */
  weightDtypes: string[];
  /** Class names stored with the model (Pollard metadata), when known. */
  classNames?: string[];
  /** How the file says its input pixels are scaled (stored, or guessed from its layers, metadata or name). */
  inputScalingGuess?: { scaling: InputScaling; reason: string };
}

export interface EvaluationResult {
  count: number;
  loss: number;
  /** Top-1, 0..1. */
  accuracy: number;
  /** Top-5, 0..1, where there are more than 5 classes. */
  top5?: number;
  classNames: string[];
  perClassAccuracy: number[];
  /** confusion[actual][predicted] */
  confusion: number[][];
}

export type EnergyLabel =
  'measured:counter' | 'measured:sampled' | 'modelled:tdp-load' | 'modelled:op-count' | 'unavailable';

/** Every energy figure carries how it was obtained; an unavailable figure has `joules: null`. */
export interface EnergyFigure {
  joules: number | null;
  label: EnergyLabel;
  /** e.g. "RAPL package-0", "NVML GPU 0", "TDP table: Intel Xeon (65 W)". */
  source: string;
  reason?: string;
}

/** Median and spread of repeated measurements from one energy source (joules unless named otherwise). */
export interface EnergyStatistic {
  label: EnergyLabel;
  source: string;
  /** Why there are no values (label `unavailable`). */
  reason?: string;
  /** One value per repetition, in measurement order. */
  values: number[];
  /** null where there are no values: an unavailable figure is never 0. */
  median: number | null;
  min: number | null;
  max: number | null;
  /** Quartiles (linear interpolation between order statistics). */
  q1: number | null;
  q3: number | null;
}

/** Grams of CO2-equivalent for an energy figure, and where the grid intensity came from. */
export interface CarbonFigure {
  grams: number | null;
  gCO2ePerKWh: number | null;
  /** Power usage effectiveness the energy was multiplied by (1.0 for a workstation). */
  pue: number;
  /** e.g. "DE (Germany) 2024, Electricity Maps yearly average (via CO2.js)" or "user setting". */
  intensitySource: string;
  region?: string;
  year?: number;
  reason?: string;
}
