/**
 * A compress job's result (also `run.json`'s `result` of a past compress run) read into what
 * the Results screen shows. The engine's record is `{ before, after, layers, energy, … }`;
 * anything missing stays undefined and is shown as a dash, never as 0.
 */
import type { EnergyLabel } from '../../shared/types';

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

type Json = Record<string, unknown>;
const record = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** An EnergyFigure (`joules`) or an EnergyStatistic (`median`) as a view; undefined when absent. */
function energyOf(value: unknown): EnergyView | undefined {
  const figure = record(value);
  if (!figure) return undefined;
  const joules = num(figure.joules) ?? num(figure.median);
  const label = str(figure.label);
  const source = str(figure.source);
  const reason = str(figure.reason);
  return {
    ...(joules !== undefined ? { joules } : {}),
    ...(label ? { label } : {}),
    ...(source ? { source } : {}),
    ...(reason ? { reason } : {}),
  };
}

/** The energy figures of one side ('original' or 'compressed' in the measured block). */
function energiesOf(energy: Json | undefined, side: 'before' | 'after'): Pick<ModelFigures, EnergyKey> {
  const measured = record(energy?.measured);
  const role = side === 'before' ? 'original' : 'compressed';
  const inference = record(measured?.inference);
  const protocol = record(inference?.result);
  const inferenceFigure =
    inference?.status === 'measured'
      ? energyOf(record(record(protocol?.[role])?.total)?.gross)
      : typeof inference?.reason === 'string'
        ? { reason: inference.reason }
        : undefined;
  const training = energyOf(record(record(measured?.training)?.[role])?.perEpoch);
  const opCount = energyOf(energy?.[side]);
  return {
    ...(inferenceFigure ? { inferenceEnergy: inferenceFigure } : {}),
    ...(training ? { trainingEnergy: training } : {}),
    ...(opCount ? { opCountEnergy: opCount } : {}),
  };
}

function figuresOf(value: unknown, energy: Json | undefined, side: 'before' | 'after'): ModelFigures {
  const r = record(value) ?? {};
  const latency = record(r.latencyMs) ?? {};
  const entries: [keyof ModelFigures, number | undefined][] = [
    ['accuracy', num(r.accuracy)],
    ['params', num(r.params)],
    ['macs', num(r.macs)],
    ['sizeBytes', num(r.sizeBytes)],
    ['sizeGzipBytes', num(r.sizeGzipBytes)],
    ['latencyBatch1Ms', num(latency.batch1)],
    ['latencyBatch32Ms', num(latency.batch32)],
  ];
  const figures: ModelFigures = Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  const weightDtype = str(r.weightDtype);
  return { ...figures, ...(weightDtype ? { weightDtype } : {}), ...energiesOf(energy, side) };
}

const KNOWN_LABELS: Record<string, string> = {
  channels: 'channels',
  outChannels: 'out channels',
  inChannels: 'in channels',
  params: 'parameters',
  macs: 'MACs',
  sparsity: 'sparsity',
  sensitivity: 'sensitivity',
  ratio: 'ratio',
  dtype: 'dtype',
};

/** Columns from the rows' own keys, so the table shows whatever the engine records, in a stable order. */
function columnsOf(rows: Json[]): LayerColumn[] {
  const columns: LayerColumn[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (key === 'name' || key === 'className' || key === 'inbound') continue;
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

function layersOf(result: Json): { columns: LayerColumn[]; rows: LayerRow[] } {
  const list = [result.layers, record(result.plan)?.layers].find(Array.isArray) as unknown[] | undefined;
  const raw = (list ?? []).map(record).filter((r): r is Json => r !== undefined);
  const columns = columnsOf(raw);
  const rows = raw.map((r) => {
    const values: LayerRow['values'] = {};
    for (const column of columns) {
      if (column.paired) {
        values[`${column.key}Before`] =
          (r[`${column.key}Before`] as number | string | undefined) ?? undefined;
        values[`${column.key}After`] = (r[`${column.key}After`] as number | string | undefined) ?? undefined;
      } else {
        const v = r[column.key];
        values[column.key] = typeof v === 'number' || typeof v === 'string' ? v : undefined;
      }
    }
    return { name: str(r.name) ?? '?', className: str(r.className) ?? '', values };
  });
  return { columns, rows };
}

export function parseCompressionResult(input: Json): CompressionView {
  // A demo or pipeline result nests the comparison under `compression`.
  const result = record(input.before) ? input : (record(input.compression) ?? input);
  const energy = record(result.energy);
  const { columns, rows } = layersOf(result);
  const notes = [result.notes, result.realised, energy?.assumptions]
    .filter(Array.isArray)
    .flat()
    .map((n) => (typeof n === 'string' ? n : (str(record(n)?.note) ?? JSON.stringify(n))));
  const method = str(result.method);
  const backend = str(result.backend) ?? str(record(result.backend)?.used);
  const runDir = str(result.runDir) ?? str(input.runDir);
  const modelPath = str(result.modelPath) ?? str(result.model);
  const evaluation = record(result.evaluation);
  const split = str(evaluation?.split);
  const samples = num(evaluation?.samples);
  // An accuracy measured on no samples is no figure (shown as n/a), never 0.00%.
  const unmeasured = samples === 0 ? { accuracy: undefined } : {};
  return {
    ...(split && samples !== undefined ? { evaluation: { split, samples } } : {}),
    ...(method ? { method } : {}),
    ...(backend ? { backend } : {}),
    ...(runDir ? { runDir } : {}),
    ...(modelPath ? { modelPath } : {}),
    before: { ...figuresOf(result.before, energy, 'before'), ...unmeasured },
    after: { ...figuresOf(result.after, energy, 'after'), ...unmeasured },
    layerColumns: columns,
    layers: rows,
    notes,
  };
}

/** Whether a result looks like a compression comparison at all. */
export function isCompressionResult(input: Json): boolean {
  const result = record(input.before) ? input : record(input.compression);
  return !!result && !!record(result.before) && !!record(result.after);
}
