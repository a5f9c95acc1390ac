/**
 * The report's rows for a compression deployed on ONNX Runtime (CPU): accuracy, latency and
 * size there, beside the TensorFlow.js figures, with overlapping latency ranges read as no
 * measurable difference.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxDeployment } from '../onnx/deployment';
import { collectReport } from './collect';
import { renderReportCsv } from './csv';
import { renderReportHtml } from './html';
import { writeCompressFixture } from './test-fixtures';

const NOW = new Date('2026-02-03T04:05:06.000Z');

const DEPLOYMENT = {
  runtime: 'deployed on ONNX Runtime (CPU)',
  evaluation: { split: 'test', samples: 2000 },
  before: {
    format: 'float32',
    accuracy: 0.8835,
    latencyMs: { batch1: 0.34, batch32: 8.89 },
    latencySpreadMs: { batch1: [0.33, 0.36], batch32: [8.7, 9.1] },
    sizeBytes: 1_740_000,
  },
  after: {
    format: 'int8',
    accuracy: 0.884,
    latencyMs: { batch1: 0.33, batch32: 3.2 },
    latencySpreadMs: { batch1: [0.31, 0.35], batch32: [3.1, 3.3] },
    sizeBytes: 450_000,
  },
  speedup: { batch1: null, batch32: 8.89 / 3.2 },
  verdict: { batch1: 'no measurable difference', batch32: '2.78× faster' },
  calibration: { samples: 256, method: 'minmax', fromQat: 0 },
} satisfies OnnxDeployment;

describe('ONNX Runtime rows in the compression report', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-onnx-rows-'));
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('adds accuracy, latency and size on ONNX Runtime, a ratio only outside the noise', async () => {
    const { compressDir: dir } = await writeCompressFixture(root);
    const file = path.join(dir, 'compression.json');
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(file, JSON.stringify({ ...stored, onnxRuntime: DEPLOYMENT }));
    const doc = await collectReport(dir, { now: NOW });
    const rows = Object.fromEntries(doc.comparison.map((row) => [row.id, row]));
    const where = 'deployed on ONNX Runtime (CPU), float32 → int8';
    expect(rows.onnxAccuracy).toMatchObject({
      metric: `accuracy (top-1, 2000 test samples, ${where})`,
      before: 88.35,
      after: 88.4,
      changeUnit: 'points',
    });
    expect(rows.onnxAccuracy!.change).toBeCloseTo(0.05, 10);
    expect(rows.onnxLatencyBatch32).toMatchObject({
      metric: `latency, batch 32 (median, ${where})`,
      before: 8.89,
      after: 3.2,
      change: 8.89 / 3.2,
    });
    expect(rows.onnxLatencyBatch1).toMatchObject({
      before: 0.34,
      after: 0.33,
      change: null,
      verdict: 'no measurable difference',
      reason: 'the interquartile ranges of the timed runs overlap',
    });
    expect(rows.onnxSize).toMatchObject({ before: 1_740_000, after: 450_000, change: 1_740_000 / 450_000 });
    expect(renderReportHtml(doc)).toContain(`latency, batch 32 (median, ${where})`);
    expect(renderReportCsv(doc)).toContain(`latency, batch 32 (median, ${where})`);
  });

  it('adds nothing for a run without ONNX Runtime figures', async () => {
    const { compressDir: dir } = await writeCompressFixture(path.join(root, 'none'));
    const doc = await collectReport(dir, { now: NOW });
    expect(doc.comparison.filter((row) => row.id.startsWith('onnx'))).toEqual([]);
  });
});
