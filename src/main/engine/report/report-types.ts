/**
 * The report as data: what `report.json` holds (schema version 1, documented key by key in
 * docs/report-schema.md) and what the HTML, CSV and PDF are rendered from. A figure that could
 * not be obtained has `null` and a reason, never 0.
 */
import type { TrainingEnergySection } from './training-section';
import type { CarbonFigure, EnergyLabel } from '../../../shared/types';
import type { EnergyVerdict } from '../energy/protocol';

export const REPORT_SCHEMA_VERSION = 1;

/**
 * How a figure was obtained: the energy labels of ENERGY.md, `measured` (accuracy, file sizes,
 * latency), `counted` (parameters, MACs: from the model's configuration).
 */
export type FigureLabel = EnergyLabel | 'measured' | 'counted';

export interface ComparisonRow {
  /** Stable key: accuracy, params, macs, size, sizeGzip, latencyBatch1, latencyBatch32, … */
  id: string;
  metric: string;
  unit: string;
  label: FigureLabel;
  before: number | null;
  after: number | null;
  /** Costs: before ÷ after (× smaller or faster); accuracy: after − before in points. */
  change: number | null;
  changeUnit: 'x' | 'points';
  source?: string;
  /** Energy rows: whether the difference stands out of the noise (see compareEnergy). */
  verdict?: EnergyVerdict;
  /** Why a value is null. */
  reason?: string;
}

export interface SummaryFactor {
  /** before ÷ after; null with `reason` where unavailable. */
  factor: number | null;
  /** What was compared, e.g. "raw bytes of the exported model". */
  basis: string;
  label: FigureLabel;
  /** Energy: `no measurable difference` or `contradicts latency` where there is no factor. */
  verdict?: EnergyVerdict;
  /** What was read (energy), so the label can be said in plain words. */
  source?: string;
  reason?: string;
}

export interface ReportSummary {
  method: string;
  methodText: string;
  size: SummaryFactor;
  macs: SummaryFactor;
  latency: SummaryFactor;
  /** Energy on this machine and backend (measured where a meter measures, else the CPU model). */
  energy: SummaryFactor;
  /** Modelled op-count energy: what hardware with native int8 or sparse support would save. */
  /** The op-count model's factor: only for runs with quantized or sparse weights (what int8/sparse hardware would save). */
  energyModelled?: SummaryFactor;
  accuracy: { before: number; after: number; deltaPoints: number; split: string; samples: number };
}

export interface Setting {
  group: string;
  name: string;
  value: string;
}

export interface LayerReportRow {
  name: string;
  className: string;
  channelsBefore: number;
  channelsAfter: number | null;
  paramsBefore: number;
  paramsAfter: number | null;
  macsBefore: number;
  macsAfter: number | null;
  /** Fraction of zero weights (magnitude pruning); null where the method keeps weights dense. */
  sparsity: number | null;
  dtype: string | null;
  /** Accuracy points lost when this layer's channel group alone is pruned at `layers.sensitivityRatio`. */
  sensitivityDropPoints: number | null;
  sensitivityReason?: string;
}

export interface EpochPoint {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  seconds: number;
  /** Energy of this epoch (J) and its label; null with the reason where unavailable. */
  energyJoules: number | null;
  energyLabel: EnergyLabel;
  energyReason?: string;
}

export interface TrainingCurve {
  stage: string;
  model: 'original' | 'compressed';
  epochs: EpochPoint[];
}

export interface SensitivitySection {
  available: boolean;
  reason?: string;
  criterion?: string;
  ratios?: number[];
  baselineAccuracy?: number;
  groups?: { id: string; producers: string[]; channels: number; accuracy: number[] }[];
  file?: string;
}

export interface EnergyStat {
  label: EnergyLabel;
  source: string;
  median: number | null;
  q1: number | null;
  q3: number | null;
  min: number | null;
  max: number | null;
  /** Values the median was taken over. */
  values: number[];
  reason?: string;
}

export interface EnergyRow {
  /** inference-net, inference-gross, inference-net:<source>, training-per-epoch, training-total, op-count. */
  id: string;
  title: string;
  /** What one value covers, e.g. "per 1,000 samples at batch 32, idle-subtracted". */
  basis: string;
  unit: 'J';
  label: EnergyLabel;
  source: string;
  before: EnergyStat;
  /** null for a training-only report. */
  after: EnergyStat | null;
  /** before ÷ after median, only where both were obtained the same way. */
  factor: number | null;
  /** 1 − after ÷ before. */
  saving: number | null;
  /** Whether the difference stands out of the noise (see compareEnergy); absent: nothing compared. */
  verdict?: EnergyVerdict;
  /** after ÷ before over the repeated figures (lowest, highest). */
  interval?: [number, number];
  reason?: string;
}

export interface CarbonRow {
  id: string;
  title: string;
  before: CarbonFigure;
  after: CarbonFigure | null;
}

export interface EnergySourceRow {
  id: string;
  name: string;
  kind: 'measured' | 'modelled';
  status: string;
  label: EnergyLabel;
  detail: string;
}

export interface EnergySection {
  /**
   * `recorded`: the run metered energy (each figure says how: measured or modelled);
   * `modelled-only`: only the op-count model; `not-recorded`: neither.
   */
  status: 'recorded' | 'modelled-only' | 'not-recorded';
  backend: string;
  rows: EnergyRow[];
  idle: {
    seconds: number;
    watts: { id: string; label: EnergyLabel; watts: number | null; reason?: string }[];
    /** Why no idle power was recorded, where it was known without a recording. */
    notRecorded?: string;
  } | null;
  /**
   * Whether the idle-subtracted inference figures stand out of the noise: idle energy under 90% of
   * the gross energy of the original's runs and every idle-subtracted value above 0. When not,
   * the summary uses the gross figures and says so.
   */
  idleSubtraction: { reliable: boolean; idleShare: number | null; note: string } | null;
  protocol: {
    repetitions: number;
    warmupRuns: number;
    idleSeconds: number;
    samplesPerRun: number;
    batchSize: number;
    order: string[];
  } | null;
  training: { original: string; compressed: string } | null;
  opCount: { table: string; citation: string; assumptions: string[] } | null;
  carbon: { intensitySource: string; pue: number; rows: CarbonRow[]; reason?: string };
  sources: EnergySourceRow[];
  /** What this backend realises and what only the op-count model shows (ENERGY.md). */
  realised: string[];
  methodNotes: string[];
  notes: string[];
}

export interface EnvironmentSection {
  backend: string;
  device: string;
  rungs: { name: string; status: string; detail: string }[];
  os: string;
  cpu: string;
  logicalCpus: number | null;
  memoryGiB: number | null;
  gpu: string;
  versions: Record<string, string>;
  /** `run`: recorded by the run itself; `report`: this machine when the report was made. */
  machineRecordedAt: 'run' | 'report';
}

export interface HashRecord {
  path: string | null;
  sha256: string | null;
  /** `run`: recorded when the run was made; `report`: computed from the files when the report was made. */
  recordedAt: 'run' | 'report' | null;
  reason?: string;
}

export interface ReproducibilitySection {
  seed: number | null;
  pollardVersion: string | null;
  reportPollardVersion: string;
  command: string | null;
  dataset: HashRecord;
  originalModel: HashRecord;
  compressedModel: HashRecord | null;
  spec: Record<string, unknown> | null;
}

export interface LiteratureRow {
  method: string;
  model: string;
  dataset: string;
  metric: string;
  before: string;
  after: string;
  reduction: string;
  citation: string;
  url: string;
}

export interface LiteratureSection {
  architecture: string | null;
  match: 'same' | 'closest' | 'none';
  note: string;
  caution: string;
  rows: LiteratureRow[];
}

export interface ReportDocument {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generator: { name: 'Pollard'; version: string; createdAt: string };
  kind: 'compression' | 'training';
  title: string;
  run: { dir: string; kind: 'compress' | 'demo' | 'train'; id: string | null; createdAt: string | null };
  model: { name: string; architecture: string | null; classes: number | null };
  summary: ReportSummary | null;
  comparison: ComparisonRow[];
  settings: Setting[];
  layers: { rows: LayerReportRow[]; sensitivityRatio: number | null; sensitivityReason?: string };
  training: { curves: TrainingCurve[]; reason?: string };
  /** A run pruned while training: its training energy against the dense run (training-section.ts). */
  trainingEnergy?: TrainingEnergySection;
  sensitivity: SensitivitySection;
  energy: EnergySection;
  environment: EnvironmentSection;
  reproducibility: ReproducibilitySection;
  literature: LiteratureSection;
  notes: string[];
}
