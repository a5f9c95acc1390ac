import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport } from './collect';
import { energyHeadline } from './energy-headline';
import { renderReportHtml } from './html';
import { writeCompressFixture } from './test-fixtures';

const NOW = new Date('2026-02-03T04:05:06.000Z');
let root: string;
let compressDir: string;
let trainDir: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-headline-'));
  ({ compressDir, trainDir } = await writeCompressFixture(path.join(root, 'measured')));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('energy headline', () => {
  it('a compress run leads with inference energy per 1,000 samples on its machine', async () => {
    const doc = await collectReport(compressDir, { now: NOW });
    const headline = energyHeadline(doc.kind, doc.energy);
    expect(headline).toEqual({
      rowId: 'inference-net',
      title: 'Headline: inference energy per 1,000 samples on the machine this run ran on',
      definition:
        "Energy to classify 1,000 samples at batch 32 with the wasm backend on the machine the run ran on, with idle power subtracted, the median of 3 alternated runs of each model; estimated: CPU power × the machine's CPU load. Every other energy figure below is secondary and says what it is.",
      text: 'original 1.60 J, compressed 400 mJ: 4.00× less energy for the compressed model',
    });
    const html = renderReportHtml(doc);
    const section = html.slice(html.indexOf('<section id="energy">'));
    expect(section.startsWith('<section id="energy"><h2>Energy</h2><div class="energy-headline"')).toBe(true);
    expect(section).toContain(
      '<p class="headline-figure"><b>original 1.60 J, compressed 400 mJ: 4.00× less energy for the compressed model</b></p>',
    );
  });

  it('--energy quick with only the CPU model: idle power not recorded, and said so; no negative figure', async () => {
    const { compressDir: quickDir } = await writeCompressFixture(path.join(root, 'quick'), { quick: true });
    const doc = await collectReport(quickDir, { now: NOW });
    expect(energyHeadline(doc.kind, doc.energy)).toEqual({
      rowId: 'inference-net',
      title: 'Headline: inference energy per 1,000 samples on the machine this run ran on',
      definition:
        "Energy to classify 1,000 samples at batch 32 with the wasm backend on the machine the run ran on, with no idle draw in it (the figures charge only this job's own work), the median of 3 alternated runs of each model; estimated: CPU power × this job's CPU time. Every other energy figure below is secondary and says what it is.",
      // 10 W for 200 ms and for 50 ms per 1,000 samples; nothing drawn between the runs.
      text: 'original 2.00 J, compressed 500 mJ: 4.00× less energy for the compressed model',
    });
    expect(doc.energy.idle).toMatchObject({ seconds: 0, watts: [{ id: 'cpu-tdp', watts: 0 }] });
    const html = renderReportHtml(doc);
    expect(html).toContain(
      'Idle power not recorded: every source charges only this job&#39;s own work (the CPU model counts this process&#39;s CPU time), so there is no idle draw in its figures to subtract.',
    );
    expect(html).not.toContain('Recorded over 0.0 s');
    const negative = /(?:^|[\s>(])[-−]\s?\d[\d.,]*\s?(?:mJ|J|mW|W|g)\b/.exec(html);
    expect(negative).toBeNull();
  });

  it('a train run leads with its whole-run training energy', async () => {
    const doc = await collectReport(trainDir, { now: NOW });
    const headline = energyHeadline(doc.kind, doc.energy);
    expect(headline).toEqual({
      rowId: 'training-total',
      title: 'Headline: whole-run training energy',
      definition:
        "Energy of the whole training run (all 3 epochs, warm-up included) with the wasm backend on the machine it ran on; estimated: CPU power × the machine's CPU load. Every other energy figure below is secondary and says what it is.",
      text: '93.0 J',
    });
    const html = renderReportHtml(doc);
    const section = html.slice(html.indexOf('<section id="energy">'));
    expect(section.startsWith('<section id="energy"><h2>Energy</h2><div class="energy-headline"')).toBe(true);
  });
});
