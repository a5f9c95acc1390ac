/**
 * The HTML report in a real Chromium (Playwright): the summary on the page equals report.json,
 * nothing is fetched, markup in a layer name stays inert, the page fits A4 and Letter, and the
 * PDF printed from it has the paper size asked for. Skips, saying why, where Chromium is absent.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumArgs, DEFAULT_CHROMIUM_PATH } from './chromium';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport } from './collect';
import { formatFactor, formatPoints } from './format';
import { renderReportHtml } from './html';
import { findChromium, renderPdf } from './pdf';
import type { ReportDocument } from './report-types';
import { MARKUP_LAYER, writeCompressFixture } from './test-fixtures';

const CHROMIUM = DEFAULT_CHROMIUM_PATH;
const present = existsSync(CHROMIUM);
if (!present) {
  console.warn(
    `report-browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set POLLARD_CHROMIUM)`,
  );
}

let root: string;
let browser: Browser;
let doc: ReportDocument;
let html: string;

beforeAll(async () => {
  if (!present) return;
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-report-browser-'));
  const { compressDir } = await writeCompressFixture(root);
  doc = JSON.parse(JSON.stringify(await collectReport(compressDir))) as ReportDocument;
  html = renderReportHtml(doc);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: chromiumArgs(),
  });
});

afterAll(async () => {
  await browser?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/** The report in a fresh page: every request fails the test, and dialogs (alert) are recorded. */
async function open(width = 1000): Promise<{ page: Page; requests: string[]; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const requests: string[] = [];
  const dialogs: string[] = [];
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (!url.startsWith('data:') && !url.startsWith('about:')) requests.push(url);
    await route.abort();
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:') && !url.startsWith('about:') && !requests.includes(url)) requests.push(url);
  });
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.setContent(html, { waitUntil: 'load' });
  return { page, requests, dialogs };
}

describe.skipIf(!present)('HTML report in Chromium', () => {
  it('shows the summary numbers of report.json, and fetches nothing', async () => {
    const { page, requests, dialogs } = await open();
    const tiles = await page.$$eval('[data-summary]', (elements) =>
      elements.map((element) => ({
        id: element.getAttribute('data-summary'),
        value: element.getAttribute('data-value'),
        text: element.querySelector('.tile-value')?.textContent ?? '',
      })),
    );
    const summary = doc.summary!;
    const factors = {
      size: summary.size,
      macs: summary.macs,
      latency: summary.latency,
      energy: summary.energy,
      energyModelled: summary.energyModelled!,
    };
    expect(tiles.map((tile) => tile.id)).toEqual([
      'method',
      'size',
      'macs',
      'latency',
      'energy',
      'energyModelled',
      'accuracy',
    ]);
    for (const [id, factor] of Object.entries(factors)) {
      const tile = tiles.find((candidate) => candidate.id === id)!;
      expect(Number(tile.value)).toBe(factor.factor);
      expect(tile.text).toBe(formatFactor(factor.factor!));
    }
    const accuracy = tiles.find((tile) => tile.id === 'accuracy')!;
    expect(Number(accuracy.value)).toBe(summary.accuracy.deltaPoints);
    expect(accuracy.text).toBe(formatPoints(summary.accuracy.deltaPoints));
    expect(tiles[0]!.text).toBe(summary.methodText);
    // The comparison table's rows are those of the JSON, in order.
    const rows = await page.$$eval('#comparison tr[data-row]', (elements) =>
      elements.map((element) => element.getAttribute('data-row')),
    );
    expect(rows).toEqual(doc.comparison.map((row) => row.id));
    expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(4);
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('keeps markup in a layer name inert: shown as text, no element made from it', async () => {
    const { page, requests, dialogs } = await open();
    expect(await page.locator('img').count()).toBe(0);
    const cell = page.locator(`#layers tr[data-layer="${MARKUP_LAYER.replace(/"/g, '\\"')}"] td`).first();
    expect(await cell.textContent()).toBe(MARKUP_LAYER);
    const legend = await page.$$eval('#sensitivity svg text.legend', (elements) =>
      elements.map((element) => element.textContent),
    );
    expect(legend).toContain(MARKUP_LAYER);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('fits the printable width of A4 and Letter when printed', async () => {
    // 96 CSS px per inch; the page margins are 12 mm left and right.
    for (const [paper, widthMm] of [
      ['A4', 210],
      ['Letter', 215.9],
    ] as const) {
      const printable = Math.floor(((widthMm - 24) / 25.4) * 96);
      const { page } = await open(printable);
      await page.emulateMedia({ media: 'print' });
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth, `${paper}: ${printable} px printable`).toBeLessThanOrEqual(printable);
      await page.close();
    }
  });

  it('prints a PDF on the paper asked for', async () => {
    const found = await findChromium({ POLLARD_CHROMIUM: CHROMIUM });
    expect(found).toEqual({ path: CHROMIUM });
    const mediaBoxes = (bytes: Buffer): string[] => {
      const text = bytes.toString('latin1');
      expect(text.startsWith('%PDF-')).toBe(true);
      const boxes = [...text.matchAll(/\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/g)];
      return [...new Set(boxes.map((m) => `${Math.round(Number(m[1]))}×${Math.round(Number(m[2]))}`))];
    };
    // The way `pollard report --format pdf` prints: headless Chromium on the command line.
    const a4 = path.join(root, 'a4.pdf');
    await renderPdf(renderReportHtml(doc, { paper: 'a4' }), a4, { chromium: CHROMIUM });
    expect(mediaBoxes(await fs.readFile(a4))).toEqual(['595×842']);
    // Letter from the same page, printed by the running browser (quicker than a second process).
    const page = await browser.newPage();
    await page.setContent(renderReportHtml(doc, { paper: 'letter' }));
    const letter = await page.pdf({ preferCSSPageSize: true });
    expect(mediaBoxes(letter)).toEqual(['612×792']);
    await page.close();
  });
});

describe('PDF without Chromium', () => {
  it('says there is none and how to get one', async () => {
    const found = await findChromium({}, 'linux', ['/nonexistent/chromium']);
    expect(found).toEqual({ reason: 'no Chromium or Chrome found (looked for /nonexistent/chromium)' });
    expect(await findChromium({ POLLARD_CHROMIUM: '/nonexistent/chrome' })).toEqual({
      reason: 'POLLARD_CHROMIUM=/nonexistent/chrome is not an executable file',
    });
    const previous = process.env.POLLARD_CHROMIUM;
    process.env.POLLARD_CHROMIUM = '/nonexistent/chrome';
    try {
      await expect(renderPdf('<p>x</p>', '/tmp/never.pdf')).rejects.toThrow(
        '/tmp/never.pdf: a PDF needs Chromium: POLLARD_CHROMIUM=/nonexistent/chrome is not an executable file; install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome, or set POLLARD_CHROMIUM=/path/to/chromium; the HTML report also prints to PDF from any browser',
      );
    } finally {
      if (previous === undefined) delete process.env.POLLARD_CHROMIUM;
      else process.env.POLLARD_CHROMIUM = previous;
    }
  });
});
