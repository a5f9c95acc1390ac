import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSpecSchema } from '../../../shared/jobs';
import { collectReport } from './collect';
import { CSV_HEADER, renderReportCsv } from './csv';
import { renderReportHtml } from './html';
import { literatureFor } from './literature';
import { reportPaths, writeReport } from './report-job';
import type { StoredRun } from './run-folder';
import {
  CPU_SOURCE,
  FINETUNE_EPOCH_JOULES,
  MARKUP_LAYER,
  NO_NVML,
  NO_RAPL,
  ORIGINAL_EPOCH_JOULES,
  writeCompressFixture,
} from './test-fixtures';

const NOW = new Date('2026-02-03T04:05:06.000Z');
let root: string;
let compressDir: string;
let trainDir: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-report-'));
  ({ compressDir, trainDir } = await writeCompressFixture(path.join(root, 'measured')));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('report JSON', () => {
  it('has every documented key, schema version 1, and the summary computed from the run', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    expect(Object.keys(doc).sort()).toEqual(
      [
        'comparison',
        'energy',
        'environment',
        'generator',
        'kind',
        'layers',
        'literature',
        'model',
        'notes',
        'reproducibility',
        'run',
        'schemaVersion',
        'sensitivity',
        'settings',
        'summary',
        'title',
        'training',
      ].sort(),
    );
    expect(doc.schemaVersion).toBe(1);
    expect(doc.generator).toEqual({
      name: 'Pollard',
      version: '0.1.0',
      createdAt: '2026-02-03T04:05:06.000Z',
    });
    expect(doc.kind).toBe('compression');
    const summary = doc.summary!;
    expect(summary.size.factor).toBeCloseTo(250471 / 29315, 12);
    expect(summary.macs.factor).toBeCloseTo(358440 / 178930, 12);
    expect(summary.latency.factor).toBe(4);
    // 10 W while a model runs, 2 W idle: (10 − 2) W × 0.2 s against × 0.05 s.
    expect(summary.energy.factor).toBeCloseTo(4, 9);
    expect(summary.energy.label).toBe('modelled:tdp-load');
    expect(summary.energy.basis).toBe(
      'inference per 1,000 samples at batch 32, idle power subtracted on wasm',
    );
    expect(summary.energyModelled).toMatchObject({ factor: 25, label: 'modelled:op-count' });
    expect(summary.accuracy.deltaPoints).toBeCloseTo(-0.95, 9);
    expect(summary.methodText).toBe(
      'Structured channel pruning (l1, per layer): 50% fewer MACs in 1 step, fine-tuned 2 epochs, then uint8 weight quantization of the export',
    );
  });

  it('keeps every energy figure labelled: measured sources say why they are unavailable, never 0', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    const rows = Object.fromEntries(doc.energy.rows.map((row) => [row.id, row]));
    expect(rows['inference-net:rapl']).toMatchObject({
      label: 'unavailable',
      factor: null,
      before: { median: null, reason: NO_RAPL },
      after: { median: null, reason: NO_RAPL },
    });
    expect(rows['inference-net:nvml']!.before.reason).toBe(NO_NVML);
    expect(rows['inference-net']!.before.median).toBeCloseTo(1.6, 9);
    expect(rows['inference-net']!.after!.median).toBeCloseTo(0.4, 9);
    expect(rows['inference-gross']!.before.median).toBeCloseTo(2, 9);
    expect(rows['inference-net']!.source).toBe(CPU_SOURCE);
    expect(rows['training-per-epoch']).toMatchObject({
      label: 'modelled:tdp-load',
      before: { median: 31, values: ORIGINAL_EPOCH_JOULES },
      after: { median: 12.5, values: FINETUNE_EPOCH_JOULES },
    });
    expect(rows['training-per-epoch']!.factor).toBeCloseTo(31 / 12.5, 12);
    expect(rows['op-count']!.factor).toBeCloseTo(25, 12);
    expect(doc.energy.idleSubtraction).toMatchObject({ reliable: true });
    expect(doc.energy.idleSubtraction!.idleShare).toBeCloseTo(0.2, 9);
    expect(doc.energy.sources.map((source) => [source.id, source.status, source.label])).toEqual([
      ['rapl', 'unavailable', 'unavailable'],
      ['nvml', 'unavailable', 'unavailable'],
      ['cpu-tdp', 'open', 'modelled:tdp-load'],
    ]);
    // Nowhere a number stands in for a missing figure.
    for (const row of doc.energy.rows) {
      for (const stat of [row.before, row.after]) {
        if (stat && stat.label === 'unavailable')
          expect([stat.median, stat.reason === undefined]).toEqual([null, false]);
      }
    }
  });

  it('on a machine like CI: modelled figures labelled, measured ones "unavailable: <reason>" in the HTML', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    const html = renderReportHtml(doc);
    expect(html).toContain(`unavailable: ${NO_RAPL}`);
    expect(html).toContain(`unavailable: ${NO_NVML}`);
    // Plain words first, the technical label as the detail.
    expect(html).toContain(
      '<span class="label label-modelled" data-label="modelled:tdp-load">estimated: CPU power × the machine&#39;s CPU load <span class="label-detail">(modelled:tdp-load)</span></span>',
    );
    expect(html).toContain(
      '<span class="label label-modelled" data-label="modelled:op-count">estimated from operation counts (45 nm table) <span class="label-detail">(modelled:op-count)</span></span>',
    );
    for (const id of [
      'summary',
      'comparison',
      'settings',
      'layers',
      'training',
      'sensitivity',
      'energy',
      'environment',
      'reproducibility',
      'literature',
    ]) {
      expect(html).toContain(`<section id="${id}">`);
    }
  });

  it('a run made before energy was measured: the summary says why, with the same words on the page', async () => {
    const { compressDir: old } = await writeCompressFixture(path.join(root, 'unmeasured'), {
      unmeasured: true,
    });
    const doc = await collectReport(old, { now: NOW });
    const reason =
      'not recorded: this run was made without energy measurement (before Pollard measured compress runs, or with energy measurement off)';
    expect(doc.summary!.energy).toEqual({
      factor: null,
      basis: 'inference per 1,000 samples on wasm',
      label: 'unavailable',
      reason,
    });
    expect(doc.energy.status).toBe('modelled-only');
    expect(doc.summary!.energyModelled!.factor).toBe(25);
    expect(renderReportHtml(doc)).toContain(`<span class="unavailable">unavailable: ${reason}</span>`);
  });

  it('on a busy machine (idle power as high as the runs): no saving from noise, the summary uses gross figures', async () => {
    const { compressDir: busy } = await writeCompressFixture(path.join(root, 'saturated'), {
      saturated: true,
    });
    const doc = await collectReport(busy, { now: NOW });
    expect(doc.energy.idleSubtraction).toMatchObject({ reliable: false });
    const rows = Object.fromEntries(doc.energy.rows.map((row) => [row.id, row]));
    // Idle power as high as the runs: the idle-subtracted figures are not measurable, never 0 or negative.
    expect(rows['inference-net']).toMatchObject({ factor: null, before: { median: null } });
    expect(rows['inference-net']!.reason).toMatch(/^below the idle baseline: not measurable/);
    // 8 W throughout: gross 8 W × 0.2 s against 8 W × 0.05 s.
    expect(rows['inference-gross']!.factor).toBeCloseTo(4, 9);
    expect(doc.summary!.energy).toEqual({
      factor: rows['inference-gross']!.factor,
      basis: 'inference per 1,000 samples at batch 32, including idle power on wasm',
      label: 'modelled:tdp-load',
      source: CPU_SOURCE,
    });
    expect(doc.comparison.map((row) => row.id)).toContain('energy:inference-gross');
    expect(doc.comparison.map((row) => row.id)).not.toContain('energy:inference-net');
    expect(doc.energy.notes[0]).toMatch(/^idle power was as high as the power during the runs/);
  });

  it('a run stored with negative idle-subtracted figures and equal models: no negative energy, "no measurable difference"', async () => {
    const { compressDir: dir } = await writeCompressFixture(path.join(root, 'legacy-negative'));
    const file = path.join(dir, 'compression.json');
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as {
      energy: {
        measured: { inference: { result: Record<string, Record<string, Record<string, unknown>>> } };
      };
    };
    const result = stored.energy.measured.inference.result;
    // As issue 14 saw it: "-122 µJ IQR -126 µJ–-119 µJ", from idle power above the run's.
    const negative = [-122e-6, -126e-6, -119e-6];
    Object.assign(result.original!.total!.net as object, {
      values: negative,
      median: -122e-6,
      min: -126e-6,
      max: -119e-6,
      q1: -124e-6,
      q3: -120.5e-6,
    });
    // Identical gross figures on both sides, the same runs' times: noise, not a saving.
    result.compressed!.total!.gross = result.original!.total!.gross;
    result.compressed!.seconds = result.original!.seconds as unknown as Record<string, unknown>;
    await fs.writeFile(file, JSON.stringify(stored));
    const doc = await collectReport(dir, { now: NOW });
    const rows = Object.fromEntries(doc.energy.rows.map((row) => [row.id, row]));
    expect(rows['inference-net']).toMatchObject({ factor: null, saving: null, before: { median: null } });
    expect(rows['inference-net']!.before.reason).toMatch(/^below the idle baseline: not measurable/);
    expect(rows['inference-gross']).toMatchObject({
      factor: null,
      saving: null,
      verdict: 'no measurable difference',
    });
    expect(doc.summary!.energy).toMatchObject({ factor: null, verdict: 'no measurable difference' });
    const html = renderReportHtml(doc);
    expect(html).toContain('data-verdict="no measurable difference"');
    // In the summary tile: the verdict's name as the value, its sentence below in small type.
    const tile = /<div class="tile" data-summary="energy"[^]*?<div class="tile-basis">/.exec(html)?.[0] ?? '';
    expect(tile).toContain(
      '<div class="tile-value"><span class="verdict" data-verdict="no measurable difference">no measurable difference</span></div>',
    );
    expect(tile).toContain(`<div class="tile-reason">${doc.summary!.energy.reason!}</div>`);
    expect(html).not.toMatch(/-\d[\d.,]*\s*[µmk]?J\b/);
    expect(JSON.stringify(doc)).not.toMatch(/"(median|q1|q3|min|max|before|after)":-/);
  });

  it('an energy saving while the latency measurement got slower beyond its spread is not shown as a saving', async () => {
    const { compressDir: dir } = await writeCompressFixture(path.join(root, 'slower'));
    const file = path.join(dir, 'compression.json');
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as {
      latency: Record<'before' | 'after', { spread: { batch32: [number, number] } }>;
    };
    stored.latency.before.spread.batch32 = [5.8, 6.2];
    stored.latency.after.spread.batch32 = [6.4, 6.9];
    await fs.writeFile(file, JSON.stringify(stored));
    const doc = await collectReport(dir, { now: NOW });
    const rows = Object.fromEntries(doc.energy.rows.map((row) => [row.id, row]));
    expect(rows['inference-net']).toMatchObject({
      factor: null,
      saving: null,
      verdict: 'contradicts latency',
    });
    expect(rows['inference-net']!.reason).toMatch(/^not shown as a saving: .*fastest run, 6\.40 ms/);
    expect(doc.summary!.energy).toMatchObject({ factor: null, verdict: 'contradicts latency' });
    expect(renderReportHtml(doc)).toContain('data-verdict="contradicts latency"');
  });

  it('training per epoch from a run recorded with its warm-up epochs in: not compared, and says why', async () => {
    const { compressDir: dir } = await writeCompressFixture(path.join(root, 'with-warm-up'));
    const file = path.join(dir, 'compression.json');
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as {
      energy: { measured: { training: Record<'original' | 'compressed', { warmupExcluded?: number }> } };
    };
    delete stored.energy.measured.training.original.warmupExcluded;
    delete stored.energy.measured.training.compressed.warmupExcluded;
    await fs.writeFile(file, JSON.stringify(stored));
    const doc = await collectReport(dir, { now: NOW });
    const row = doc.energy.rows.find((candidate) => candidate.id === 'training-per-epoch')!;
    expect(row).toMatchObject({ factor: null, saving: null });
    expect(row.reason).toMatch(/^not compared: this run was recorded before warm-up epochs were left out/);
  });

  it('the int8/sparse-hardware card only for runs with quantized or sparse weights', async () => {
    const { compressDir: dir } = await writeCompressFixture(path.join(root, 'float32-structured'));
    const file = path.join(dir, 'compression.json');
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as {
      method: string;
      after: { weightDtype: string };
    };
    stored.method = 'structured';
    stored.after.weightDtype = 'float32';
    await fs.writeFile(file, JSON.stringify(stored));
    const doc = await collectReport(dir, { now: NOW });
    expect(doc.summary!.energyModelled).toBeUndefined();
    expect(renderReportHtml(doc)).not.toContain('data-summary="energyModelled"');
    // The quantized fixture keeps it.
    const quantized = await collectReport(compressDir, { now: NOW });
    expect(renderReportHtml(quantized)).toContain('data-summary="energyModelled"');
  });

  it('records reproducibility: seed, version, the exact command, and SHA-256 of data and models', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    const r = doc.reproducibility;
    expect(r.seed).toBe(42);
    expect(r.pollardVersion).toBe('0.1.0');
    expect(r.command).toBe(
      `pollard compress --model ${trainDir} --data ${path.join(root, 'measured', 'data')} --method structured+quantize --target-macs 0.5 --out ${compressDir}`,
    );
    expect(r.dataset).toEqual({
      path: path.join(root, 'measured', 'data'),
      sha256: 'd'.repeat(64),
      recordedAt: 'run',
    });
    expect(r.originalModel).toEqual({
      path: path.join(trainDir, 'model'),
      sha256: 'a'.repeat(64),
      recordedAt: 'run',
    });
    expect(r.compressedModel!.recordedAt).toBe('report');
    expect(r.compressedModel!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.environment).toMatchObject({ backend: 'wasm', cpu: 'Test CPU', machineRecordedAt: 'run' });
  });

  it('per-layer sensitivity: accuracy points lost at the measured ratio nearest 50%', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    expect(doc.layers.sensitivityRatio).toBe(0.5);
    const drops = doc.layers.rows.map((row) => [row.name, row.sensitivityDropPoints, row.sensitivityReason]);
    expect(drops[0]![1]).toBeCloseTo((0.864 - 0.8) * 100, 9);
    expect(drops[1]![1]).toBeCloseTo((0.864 - 0.85) * 100, 9);
    expect(drops[2]).toEqual(['logits', null, 'not in a prunable channel group']);
  });
});

describe('markup in names', () => {
  it('a layer named like a tag is escaped wherever it appears', async () => {
    const html = renderReportHtml(await collectReport(compressDir, { now: NOW }));
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/onerror=alert\(1\)>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(`data-layer="&lt;img src=x onerror=alert(1)&gt;"`);
    // No script can run, and the page may fetch nothing.
    expect(html).not.toContain('<script');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(MARKUP_LAYER).toBe('<img src=x onerror=alert(1)>');
  });

  it('escapes every field of a crafted run folder, numbers included', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    const bad = '<script>alert(1)</script>';
    doc.title = bad;
    doc.run.dir = bad;
    doc.notes.push(bad);
    doc.settings.push({ group: bad, name: bad, value: bad });
    doc.layers.rows[0]!.className = bad;
    doc.training.curves[0]!.stage = bad;
    (doc.training.curves[0]!.epochs[0] as unknown as { epoch: string }).epoch = bad;
    doc.environment.versions[bad] = bad;
    doc.energy.sources[0]!.detail = bad;
    const html = renderReportHtml(doc);
    expect(html).not.toContain('<script');
    expect(html.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1).toBeGreaterThanOrEqual(10);
  });
});

describe('report CSV', () => {
  it('is the comparison table, exactly', async () => {
    const csv = renderReportCsv(await collectReport(compressDir, { now: NOW }));
    const source = `"${CPU_SOURCE}"`;
    expect(csv).toBe(
      [
        CSV_HEADER.join(','),
        '"accuracy (top-1, 2000 test samples)",%,86.4,85.45,-0.9500000000000028,points,measured,',
        'parameters,count,3422,1654,2.0689238210399035,x,counted,',
        'MACs per sample,count,358440,178930,2.0032414910858996,x,counted,',
        'model file size,bytes,250471,29315,8.544124168514413,x,measured,',
        '"model file size, gzipped",bytes,229446,23069,9.946074819021197,x,measured,',
        '"latency, batch 1 (median, wasm)",ms,0.25,0.2,1.25,x,measured,',
        '"latency, batch 32 (median, wasm)",ms,6,1.5,4,x,measured,',
        `"inference energy per 1,000 samples (batch 32, idle-subtracted)",J,1.6000000000000014,0.40000000000000036,4,x,modelled:tdp-load,${source}`,
        `training energy per epoch,J,31,12.5,2.48,x,modelled:tdp-load,${source}`,
        '"inference energy per 1,000 samples (batch 32, modelled op-count)",J,0.5,0.02,25,x,modelled:op-count,"op-count: Horowitz 45 nm, 0.9 V (fp32)"',
      ].join('\r\n') + '\r\n',
    );
  });

  it('writes an unavailable figure as an empty cell with its reason in the label column', async () => {
    const { compressDir: old } = await writeCompressFixture(path.join(root, 'csv-unmeasured'), {
      unmeasured: true,
    });
    const lines = renderReportCsv(await collectReport(old, { now: NOW })).split('\r\n');
    expect(lines[8]).toBe(
      '"inference energy per 1,000 samples (batch 32, idle-subtracted)",J,,,,x,"unavailable: not recorded: this run was made without energy measurement (before Pollard measured compress runs, or with energy measurement off)",none',
    );
  });
});

describe('training report', () => {
  it('a train run alone: no comparison, its training energy, and the closest published rows', async () => {
    const doc = await collectReport(trainDir, { now: NOW });
    expect(doc.kind).toBe('training');
    expect(doc.summary).toBeNull();
    expect(doc.comparison.find((row) => row.id === 'params')).toMatchObject({
      before: 3422,
      after: null,
      change: null,
    });
    const rows = Object.fromEntries(doc.energy.rows.map((row) => [row.id, row]));
    expect(rows['training-total']).toMatchObject({
      before: { median: 93 },
      after: null,
      label: 'modelled:tdp-load',
    });
    expect(rows['training-per-epoch']!.before.values).toEqual(ORIGINAL_EPOCH_JOULES);
    expect(doc.training.curves[0]!.epochs.map((point) => point.energyJoules)).toEqual(ORIGINAL_EPOCH_JOULES);
    expect(doc.literature.match).toBe('closest');
    const html = renderReportHtml(doc);
    expect(html).toContain('<h2>The trained model</h2>');
  });
});

describe('literature', () => {
  it('lenet: the LeNet-5 rows, called closest published', () => {
    const section = literatureFor('lenet');
    expect(section.match).toBe('closest');
    expect(section.rows.map((row) => [row.model, row.dataset])).toEqual([
      ['LeNet-5', 'MNIST'],
      ['LeNet-5', 'MNIST'],
    ]);
    expect(section.note).toMatch(/^Closest published: /);
    expect(section.caution).toBe(
      "Numbers as listed in Pollard's reference table; check them against the papers before quoting them.",
    );
  });

  it('resnet20: ResNet-56/110 rows, never presented as ResNet-20', () => {
    const section = literatureFor('resnet20');
    expect(section.rows.map((row) => row.model)).toEqual([
      'ResNet-56-B',
      'ResNet-110-B',
      'ResNet-56',
      'ResNet-56',
      'ResNet-56',
    ]);
    expect(section.note).toContain('No row in the table is for ResNet-20');
  });

  it('no rows for an architecture without a published relative, or an unknown one', () => {
    expect(literatureFor('mobilenet-small')).toMatchObject({ match: 'none', rows: [] });
    expect(literatureFor(null)).toMatchObject({ match: 'none', rows: [] });
    expect(literatureFor('__proto__')).toMatchObject({ match: 'none', rows: [] });
  });
});

describe('carbon', () => {
  it('is unavailable without a grid region, and kWh × intensity × PUE with one', async () => {
    const none = await collectReport(compressDir, { now: NOW });
    expect(none.energy.carbon.reason).toBe(
      'no grid region set: choose one (e.g. DE, US-CAL-CISO) or give an intensity in gCO2e/kWh',
    );
    const doc = await collectReport(compressDir, { now: NOW, grid: { intensity: 400, pue: 1.5 } });
    const row = doc.energy.carbon.rows.find((candidate) => candidate.id === 'inference-net')!;
    expect(row.before.grams).toBeCloseTo((1.6 / 3.6e6) * 400 * 1.5, 15);
    expect(row.after!.grams).toBeCloseTo((0.4 / 3.6e6) * 400 * 1.5, 15);
    expect(doc.energy.carbon.intensitySource).toBe('user setting');
  });
});

describe('where the files go', () => {
  it('a folder by default, a file for one format', () => {
    expect(reportPaths('/r', ['html', 'json'])).toEqual({
      html: '/r/report/report.html',
      json: '/r/report/report.json',
    });
    expect(reportPaths('/r', ['pdf', 'pdf'], '/x/out')).toEqual({ pdf: '/x/out/report.pdf' });
    expect(reportPaths('/r', ['csv'], '/x/table.csv')).toEqual({ csv: '/x/table.csv' });
    expect(() => reportPaths('/r', ['csv', 'json'], '/x/table.csv')).toThrow(
      'report --out /x/table.csv: a file holds one format; give a folder for csv, json',
    );
    expect(() => reportPaths('/r', ['json'], '/x/table.csv')).toThrow(
      'report --out /x/table.csv: the file name says csv but the format is json',
    );
  });

  it('writes json, csv and html into <run>/report/', async () => {
    const { files, document } = await writeReport(compressDir, {
      formats: ['json', 'csv', 'html'],
      now: NOW,
    });
    expect(files).toEqual({
      json: path.join(compressDir, 'report', 'report.json'),
      csv: path.join(compressDir, 'report', 'report.csv'),
      html: path.join(compressDir, 'report', 'report.html'),
    });
    expect(JSON.parse(await fs.readFile(files.json!, 'utf8'))).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('refuses folders that are not runs, and runs that have no report, naming the folder', async () => {
    const empty = path.join(root, 'empty');
    await fs.mkdir(empty);
    await expect(collectReport(empty)).rejects.toThrow(
      `${empty}: not a Pollard run folder (no run.json, compression.json or training.json)`,
    );
    const info = path.join(root, 'info-run');
    await fs.mkdir(info);
    await fs.writeFile(path.join(info, 'run.json'), JSON.stringify(storedRun({ kind: 'info' }, 'completed')));
    await expect(collectReport(info)).rejects.toThrow(
      `${info}: run kind "info" has no report; report on a compress, demo or train run`,
    );
    const running = path.join(root, 'running');
    await fs.mkdir(running);
    await fs.writeFile(
      path.join(running, 'run.json'),
      JSON.stringify(
        storedRun(
          { kind: 'compress', model: '/m', data: '/d', out: running, method: 'structured' },
          'running',
        ),
      ),
    );
    await expect(collectReport(running)).rejects.toThrow(
      `${path.join(running, 'compression.json')}: not found: the compress run has not finished (status: running)`,
    );
    const damaged = path.join(root, 'damaged');
    await fs.mkdir(damaged);
    await fs.writeFile(
      path.join(damaged, 'run.json'),
      JSON.stringify({ kind: 'compress', status: 'running' }),
    );
    await expect(collectReport(damaged)).rejects.toThrow(
      `${path.join(damaged, 'run.json')}: is not a valid Pollard run record: format:`,
    );
  });
});

/** A complete run.json as the host writes it, for a spec given as the CLI would. */
function storedRun(spec: object, status: StoredRun['status']): StoredRun {
  const parsed = jobSpecSchema.parse(spec);
  const at = '2026-01-02T03:04:05.000Z';
  return {
    ...{ format: 'pollard-run/1', id: 'r', kind: parsed.kind, spec: parsed, status },
    ...{ createdAt: at, updatedAt: at, hostPid: 1, seed: parsed.seed, pollardVersion: '0.1.0', resumes: 0 },
  };
}

/** Every numeric energy, power or carbon field below zero, with its path. */
function negativeFigures(value: unknown, at = ''): string[] {
  if (typeof value === 'number') {
    return /joules|watts|median|min|max|q1|q3|values|grams|kwh|before|after/i.test(at) && value < 0
      ? [`${at}: ${value}`]
      : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => negativeFigures(item, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => negativeFigures(item, at ? `${at}.${key}` : key));
  }
  return [];
}

async function runFolders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.filter((entry) => entry.isDirectory()).map((entry) => runFolders(path.join(dir, entry.name))),
  );
  const here = entries.some(
    (entry) => entry.isDirectory() && ['compress-run', 'train-run'].includes(entry.name),
  )
    ? entries
        .filter((entry) => entry.isDirectory() && ['compress-run', 'train-run'].includes(entry.name))
        .map((entry) => path.join(dir, entry.name))
    : [];
  return [...here, ...nested.flat()];
}

describe('no negative energy or power, in any report of this suite', () => {
  // Last in the file: every run folder the tests above wrote lies under `root`.
  it('scans report.json, the HTML page and the CSV of every run folder written above', async () => {
    const folders = [...new Set(await runFolders(root))];
    expect(folders.length).toBeGreaterThanOrEqual(10);
    const energyText = /(?:^|[\s>(])[-−]\s?\d[\d.,]*\s?(?:pJ|nJ|µJ|mJ|J|kJ|mW|W|kW|kWh|g)\b/;
    for (const folder of folders) {
      for (const grid of [{}, { intensity: 400, pue: 1.5 }]) {
        const doc = await collectReport(folder, { now: NOW, grid });
        expect({ folder, negative: negativeFigures(doc.energy) }).toEqual({ folder, negative: [] });
        expect({ folder, negative: negativeFigures(doc.training) }).toEqual({ folder, negative: [] });
        expect({ folder, html: energyText.exec(renderReportHtml(doc))?.[0] ?? null }).toEqual({
          folder,
          html: null,
        });
        expect({ folder, csv: energyText.exec(renderReportCsv(doc))?.[0] ?? null }).toEqual({
          folder,
          csv: null,
        });
      }
    }
  });
});
