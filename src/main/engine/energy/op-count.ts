/**
 * Modelled inference energy from the model itself (`modelled:op-count`): per-layer MACs and bytes
 * moved × an energy-per-operation table. It shows what a compressed model would cost on hardware
 * with native int8 and sparse support, which tfjs (dequantizing to float32) does not realise.
 *
 * The memory model, stated so the numbers can be checked by hand:
 *   - compute: each MAC is one multiply and one add at the wider of the weight and activation
 *     precisions: fp32, fp16, or int8 multiply with an int32 accumulator add;
 *   - weights: every parameter is read once per batch from DRAM (or SRAM, `weightMemory`), packed
 *     at `weightBits` (a 32-bit read carries 32 / weightBits weights);
 *   - activations: every layer output element is written once and read once in SRAM, packed at
 *     `activationBits`; a write is taken to cost what a read costs (the table gives reads only);
 *   - sparsity (optional, per layer): zero weights cost neither their MACs nor their reads (ideal
 *     sparse hardware: index storage ignored).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { badInput } from '../../../shared/errors';
import type { EnergyFigure, LayerSummary } from '../../../shared/types';
import horowitz45nm from '../../../../resources/energy/op-energy/horowitz-45nm.json';

const operationSchema = z.object({ add: z.number().nonnegative(), mult: z.number().nonnegative() });
const memorySchema = z.object({
  bits: z.number().int().positive(),
  read: z.number().nonnegative(),
  note: z.string().optional(),
});

export const opEnergyTableSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  citation: z.string().min(1),
  unit: z.literal('pJ'),
  arithmetic: z.object({
    int8: operationSchema,
    int32: operationSchema,
    fp16: operationSchema,
    fp32: operationSchema,
  }),
  memory: z.object({ sram: memorySchema, dram: memorySchema }),
});
export type OpEnergyTable = z.infer<typeof opEnergyTableSchema>;

/** Tables shipped in resources/energy/op-energy; the first is the default. */
export const BUNDLED_OP_ENERGY_TABLES: readonly OpEnergyTable[] = [opEnergyTableSchema.parse(horowitz45nm)];
export const DEFAULT_OP_ENERGY_TABLE: OpEnergyTable = BUNDLED_OP_ENERGY_TABLES[0]!;

/** A bundled table by id, or a table file (JSON in the same format) by path. */
export function loadOpEnergyTable(idOrPath: string): OpEnergyTable {
  const bundled = BUNDLED_OP_ENERGY_TABLES.find((table) => table.id === idOrPath);
  if (bundled) return bundled;
  let text: string;
  try {
    text = readFileSync(idOrPath, 'utf8');
  } catch {
    const ids = BUNDLED_OP_ENERGY_TABLES.map((table) => table.id).join(', ');
    throw badInput(idOrPath, `not a bundled energy table (${ids}) nor a readable file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badInput(idOrPath, `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = opEnergyTableSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badInput(idOrPath, `not an energy table: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export type Precision = 'fp32' | 'fp16' | 'int8';
export type Bits = 32 | 16 | 8;

export interface OpCountOptions {
  table?: OpEnergyTable;
  weightBits?: Bits;
  activationBits?: Bits;
  /** Inferences the total is for (e.g. 1000). */
  samples?: number;
  /** Weights are read once per batch. */
  batchSize?: number;
  weightMemory?: 'dram' | 'sram';
  /** Fraction of zero weights per layer name (0..1). */
  sparsity?: Record<string, number>;
}

export interface OpCountLayerEnergy {
  name: string;
  className: string;
  macs: number;
  params: number;
  /** Output elements per sample. */
  activations: number;
  /** Joules per sample. */
  macJoules: number;
  weightJoules: number;
  activationJoules: number;
  joules: number;
}

export interface OpCountEnergy {
  table: { id: string; name: string; citation: string };
  precision: Precision;
  weightBits: Bits;
  activationBits: Bits;
  weightMemory: 'dram' | 'sram';
  batchSize: number;
  samples: number;
  /** Per sample. */
  layers: OpCountLayerEnergy[];
  perSample: { mac: number; weights: number; activations: number; joules: number };
  /** For `samples` inferences. */
  total: EnergyFigure;
  assumptions: string[];
}

const PICO = 1e-12;

function outputElements(shape: LayerSummary['outputShape']): number {
  const shapes = Array.isArray(shape[0]) ? (shape as (number | null)[][]) : [shape as (number | null)[]];
  let count = 0;
  for (const one of shapes) count += one.reduce<number>((product, dim) => product * (dim ?? 1), 1);
  return count;
}

export function precisionOf(weightBits: Bits, activationBits: Bits): Precision {
  const bits = Math.max(weightBits, activationBits);
  return bits === 32 ? 'fp32' : bits === 16 ? 'fp16' : 'int8';
}

/** Energy of one MAC in pJ: int8 multiplies accumulate into int32, as int8 inference kernels do. */
export function macPicojoules(table: OpEnergyTable, precision: Precision): number {
  const { arithmetic } = table;
  if (precision === 'int8') return arithmetic.int8.mult + arithmetic.int32.add;
  return arithmetic[precision].mult + arithmetic[precision].add;
}

export function opCountEnergy(layers: readonly LayerSummary[], options: OpCountOptions = {}): OpCountEnergy {
  const table = options.table ?? DEFAULT_OP_ENERGY_TABLE;
  const weightBits = options.weightBits ?? 32;
  const activationBits = options.activationBits ?? weightBits;
  const samples = options.samples ?? 1;
  const batchSize = options.batchSize ?? 1;
  const weightMemory = options.weightMemory ?? 'dram';
  const precision = precisionOf(weightBits, activationBits);
  const macPj = macPicojoules(table, precision);
  const weightReadPj = (table.memory[weightMemory].read * weightBits) / table.memory[weightMemory].bits;
  const activationPj = (2 * table.memory.sram.read * activationBits) / table.memory.sram.bits;

  const perLayer = layers.map((layer): OpCountLayerEnergy => {
    const dense = 1 - Math.min(1, Math.max(0, options.sparsity?.[layer.name] ?? 0));
    const activations = outputElements(layer.outputShape);
    const macJoules = layer.macs * dense * macPj * PICO;
    const weightJoules = (layer.params * dense * weightReadPj * PICO) / batchSize;
    const activationJoules = activations * activationPj * PICO;
    return {
      name: layer.name,
      className: layer.className,
      macs: layer.macs,
      params: layer.params,
      activations,
      macJoules,
      weightJoules,
      activationJoules,
      joules: macJoules + weightJoules + activationJoules,
    };
  });
  const sum = (pick: (layer: OpCountLayerEnergy) => number): number =>
    perLayer.reduce((total, layer) => total + pick(layer), 0);
  const perSample = {
    mac: sum((layer) => layer.macJoules),
    weights: sum((layer) => layer.weightJoules),
    activations: sum((layer) => layer.activationJoules),
    joules: sum((layer) => layer.joules),
  };
  const macText =
    precision === 'int8'
      ? `int8 multiply + int32 add = ${round(macPj)} pJ per MAC`
      : `${precision} multiply + add = ${round(macPj)} pJ per MAC`;
  return {
    table: { id: table.id, name: table.name, citation: table.citation },
    precision,
    weightBits,
    activationBits,
    weightMemory,
    batchSize,
    samples,
    layers: perLayer,
    perSample,
    total: {
      joules: perSample.joules * samples,
      label: 'modelled:op-count',
      source: `op-count: ${table.name} (${precision}, ${weightBits}-bit weights from ${weightMemory.toUpperCase()}, ${activationBits}-bit activations), ${samples} samples`,
    },
    assumptions: [
      macText,
      `each weight read once per batch of ${batchSize} from ${weightMemory.toUpperCase()}: ${round(weightReadPj)} pJ per ${weightBits}-bit weight`,
      `each activation written and read once in SRAM: ${round(activationPj)} pJ per ${activationBits}-bit element`,
      options.sparsity ? 'zero weights skip their MACs and reads (ideal sparse hardware)' : 'dense weights',
    ],
  };
}

function round(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}
