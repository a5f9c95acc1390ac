import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LayerSummary } from '../../../shared/types';
import { DEFAULT_OP_ENERGY_TABLE, loadOpEnergyTable, opCountEnergy } from './op-count';

/** Dense 4 → 3 → 2: 12 + 6 MACs, 15 + 8 parameters, 3 + 2 output elements per sample. */
const TINY: LayerSummary[] = [
  {
    name: 'hidden',
    className: 'Dense',
    outputShape: [null, 3],
    params: 15,
    trainableParams: 15,
    macs: 12,
    inbound: [],
  },
  {
    name: 'out',
    className: 'Dense',
    outputShape: [null, 2],
    params: 8,
    trainableParams: 8,
    macs: 6,
    inbound: ['hidden'],
  },
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-op-energy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('op-count energy', () => {
  it('equals the hand computation for float32 (Horowitz 45 nm)', () => {
    // MACs: 18 × (3.7 + 0.9) pJ = 82.8 pJ; weights: 23 × 640 pJ = 14 720 pJ;
    // activations: 2 × (3 + 2) × 5 pJ = 50 pJ. Total 14 852.8 pJ per sample.
    const result = opCountEnergy(TINY, { samples: 1000 });
    expect(result.precision).toBe('fp32');
    expect(result.perSample.mac).toBeCloseTo(82.8e-12, 20);
    expect(result.perSample.weights).toBeCloseTo(14_720e-12, 20);
    expect(result.perSample.activations).toBeCloseTo(50e-12, 20);
    expect(result.perSample.joules).toBeCloseTo(14_852.8e-12, 20);
    expect(result.layers[0]).toMatchObject({ name: 'hidden', activations: 3 });
    expect(result.layers[0]!.joules).toBeCloseTo((12 * 4.6 + 15 * 640 + 2 * 3 * 5) * 1e-12, 20);
    expect(result.total.joules).toBeCloseTo(14_852.8e-9, 17);
    expect(result.total.label).toBe('modelled:op-count');
    expect(result.total.source).toBe(
      'op-count: Horowitz 45 nm, 0.9 V (fp32, 32-bit weights from DRAM, 32-bit activations), 1000 samples',
    );
  });

  it('equals the hand computation for int8 weights and activations', () => {
    // MACs: 18 × (0.2 int8 mult + 0.1 int32 add) = 5.4 pJ; weights: 23 × 640 × 8/32 = 3680 pJ;
    // activations: 2 × 5 × 5 × 8/32 = 12.5 pJ.
    const result = opCountEnergy(TINY, { weightBits: 8, activationBits: 8 });
    expect(result.precision).toBe('int8');
    expect(result.perSample.joules).toBeCloseTo(3697.9e-12, 20);
    expect(result.assumptions[0]).toBe('int8 multiply + int32 add = 0.3 pJ per MAC');
  });

  it('amortises weight reads over a batch and skips zero weights when asked', () => {
    // fp16 everywhere, SRAM weights, batch 4, half of `hidden` zero:
    // MACs (6 + 6) × 1.5 = 18 pJ; weights (7.5 + 8) × 5 × 16/32 / 4 = 9.6875 pJ; activations 2 × 5 × 2.5 = 25 pJ.
    const result = opCountEnergy(TINY, {
      weightBits: 16,
      batchSize: 4,
      weightMemory: 'sram',
      sparsity: { hidden: 0.5 },
    });
    expect(result.perSample.mac).toBeCloseTo(18e-12, 20);
    expect(result.perSample.weights).toBeCloseTo(9.6875e-12, 20);
    expect(result.perSample.activations).toBeCloseTo(25e-12, 20);
  });

  it('loads another table from a file and names bad ones', () => {
    const seven = { ...DEFAULT_OP_ENERGY_TABLE, id: 'test-table', name: 'Test table' };
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(seven));
    expect(loadOpEnergyTable(good).name).toBe('Test table');
    expect(loadOpEnergyTable('horowitz-45nm')).toBe(DEFAULT_OP_ENERGY_TABLE);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...seven, unit: 'nJ' }));
    expect(() => loadOpEnergyTable(bad)).toThrow(
      `${bad}: not an energy table: unit: Invalid input: expected "pJ"`,
    );
    expect(() => loadOpEnergyTable('7nm')).toThrow(
      '7nm: not a bundled energy table (horowitz-45nm) nor a readable file',
    );
  });
});
