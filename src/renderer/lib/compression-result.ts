/**
 * A compress job's result (also a demo's `compression`, and `run.json`'s `result` of a past run)
 * read into what the Results screen shows. The result is the engine's own type (ResultOf<'compress'>
 * in src/shared/job-results.ts); figures it does not hold (energy not measured, accuracy on no
 * samples) stay undefined and are shown as a dash, never as 0.
 */
import { type CompressResult, type JobResult, readJobResult, resultOfKind } from '../../shared/job-results';
import type { EnergyFigure, EnergyLabel, EnergyStatistic } from '../../shared/types';

/** One energy figure with how it was obtained (an unavailable one has no joules, and a reason). */
export interface EnergyView {
  joules?: number;
  label?: EnergyLabel | string;
  source?: string;
  reason?: string;
}

export const ENERGY_KEYS = ['inferenceEnergy', 'trainingEnergy', 'opCountEnergy'] as const;
export type EnergyKey = (typeof ENERGY_KEYS)[number];

export interface ModelFigures {
  accuracy?: number;
  params?: number;
  macs?: number;
  sizeBytes?: number;
  sizeGzipBytes?: number;
  latencyBatch1Ms?: number;
  latencyBatch32Ms?: number;
  /** Stored weight dtype, e.g. "float32" or "uint8". */
  weightDtype?: string;
  /** Inference energy per 1,000 samples at batch 32, measured by the protocol (gross: idle power included). */
  inferenceEnergy?: EnergyView;
  /** Training energy per epoch (median): the original's training against the fine-tuning. */
  trainingEnergy?: EnergyView;
  /** Inference energy per 1,000 samples from the op-count model (Horowitz 45 nm). */
  opCountEnergy?: EnergyView;
}

export interface LayerColumn {
  key: string;
  label: string;
  /** A before → after pair: `key` + "Before" / "After". */
  paired: boolean;
}

export interface LayerRow {
  name: string;
  className: string;
  values: Record<string, number | string | undefined>;
}

export interface CompressionView {
  method?: string;
  backend?: string;
  runDir?: string;
  modelPath?: string;
  before: ModelFigures;
  after: ModelFigures;
  layerColumns: LayerColumn[];
  layers: LayerRow[];
  notes: string[];
  /** Where accuracy was measured: the test split or a validation hold-out, and how many samples. */
  evaluation?: { split: string; samples: number };
}

type Energies = Pick<ModelFigures, EnergyKey>;

/** An EnergyFigure (`joules`) or an EnergyStatistic (`median`) as a view; an unavailable one keeps its reason. */
function energyOf(figure: EnergyFigure | EnergyStatistic): EnergyView {
  const joules = 'joules' in figure ? figure.joules : figure.median;
  return {
    ...(joules !== null ? { joules } : {}),
    label: figure.label,
    source: figure.source,
    ...(figure.reason !== undefined ? { reason: figure.reason } : {}),
  };
}

/** The energy figures of one side ('original' or 'compressed' in the measured block). */
function energiesOf(energy: CompressResult['energy'], side: 'before' | 'after'): Energies {
  const role = side === 'before' ? 'original' : 'compressed';
  const measured = energy.measured;
  const inference = measured?.inference;
  const inferenceEnergy: EnergyView | undefined =
    inference === undefined
      ? undefined
      : inference.status === 'measured'
        ? energyOf(inference.result[role].total.gross)
        : { reason: inference.reason };
  return {
    ...(inferenceEnergy ? { inferenceEnergy } : {}),
    ...(measured ? { trainingEnergy: energyOf(measured.training[role].perEpoch) } : {}),
    opCountEnergy: energyOf(energy[side]),
  };
}

function figuresOf(result: CompressResult, side: 'before' | 'after'): ModelFigures {
  const record = result[side];
  return {
    // An accuracy measured on no samples is no figure (shown as n/a), never 0.00%.
    ...(result.evaluation.samples > 0 ? { accuracy: record.accuracy } : {}),
    params: record.params,
    macs: record.macs,
    sizeBytes: record.sizeBytes,
    sizeGzipBytes: record.sizeGzipBytes,
    latencyBatch1Ms: record.latencyMs.batch1,
    latencyBatch32Ms: record.latencyMs.batch32,
    weightDtype: record.weightDtype,
    ...energiesOf(result.energy, side),
  };
}

const KNOWN_LABELS: Record<string, string> = {
  outChannels: 'out channels',
  params: 'parameters',
  macs: 'MACs',
  sparsity: 'sparsity',
  dtype: 'dtype',
};

type LayerRecord = CompressResult['layers'][number];

/** Columns from the rows' own keys (a magnitude run has sparsity, a quantized one dtype), in a stable order. */
function columnsOf(rows: LayerRecord[]): LayerColumn[] {
  const columns: LayerColumn[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (key === 'name' || key === 'className') continue;
      if (typeof value !== 'number' && typeof value !== 'string') continue;
      const pair = /^(.*)(Before|After)$/.exec(key);
      const base = pair ? pair[1]! : key;
      const id = pair ? `${base}:pair` : key;
      if (seen.has(id)) continue;
      seen.add(id);
      columns.push({ key: base, label: KNOWN_LABELS[base] ?? base, paired: pair !== null });
    }
  }
  return columns;
}

function layersOf(result: CompressResult): { columns: LayerColumn[]; rows: LayerRow[] } {
  const columns = columnsOf(result.layers);
  const rows = result.layers.map((layer) => {
    const cells: Record<string, number | string | undefined> = { ...layer };
    const values: LayerRow['values'] = {};
    for (const column of columns) {
      const keys = column.paired ? [`${column.key}Before`, `${column.key}After`] : [column.key];
      for (const key of keys) values[key] = cells[key];
    }
    return { name: layer.name, className: layer.className, values };
  });
  return { columns, rows };
}

export function parseCompressionResult(result: CompressResult): CompressionView {
  const { columns, rows } = layersOf(result);
  return {
    evaluation: result.evaluation,
    method: result.method,
    backend: result.backend,
    runDir: result.runDir,
    modelPath: result.modelPath,
    before: figuresOf(result, 'before'),
    after: figuresOf(result, 'after'),
    layerColumns: columns,
    layers: rows,
    notes: [...result.notes, ...result.realised, ...result.energy.assumptions],
  };
}

/** The compression comparison of a job's result: a compress job's own, or a demo's `compression`. */
export function compressionOf(result: JobResult): CompressResult | undefined {
  return resultOfKind('compress', result) ?? resultOfKind('demo', result)?.compression;
}

/** The same for a stored result (run.json), which may be an older run's or damaged. */
export function storedCompressionOf(result: unknown): CompressResult | undefined {
  return readJobResult('compress', result) ?? readJobResult('demo', result)?.compression;
}
