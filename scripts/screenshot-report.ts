/**
 * Takes the README's picture of the energy-savings report: a run's report HTML opened in
 * Debian's Chromium (as the e2e tests launch it) at 1280 px wide, light colour scheme, the top
 * 1600 px of the page (or all of it, if shorter), written as a palette PNG under 1 MB.
 *
 *   npx tsx scripts/screenshot-report.ts <run folder | report.html> docs/screenshots/report.png
 *
 * The run folder is one `pollard demo --out <folder>` wrote (report/report.html) or a compress
 * run whose report was exported (export/report.html).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium';
import { fail } from './lib/cli-args';

const USAGE = 'npx tsx scripts/screenshot-report.ts <run folder | report.html> <out.png>';
const WIDTH = 1280;
const MAX_HEIGHT = 1600;
const MAX_BYTES = 1024 * 1024;

/** The report HTML inside a run folder (or the file itself). */
function reportHtml(target: string): string {
  if (target.endsWith('.html')) return target;
  const found = ['report/report.html', 'export/report.html', 'report.html']
    .map((name) => path.join(target, name))
    .find((file) => existsSync(file));
  if (!found)
    fail(`${target}: no report/report.html or export/report.html (run \`pollard demo --out DIR\` first)`);
  return found;
}

async function main(): Promise<void> {
  const [target, out, ...rest] = process.argv.slice(2);
  if (!target || !out || rest.length > 0) fail(`usage: ${USAGE}`);
  const html = path.resolve(reportHtml(target));
  if (!existsSync(html)) fail(`${html}: no such file`);

  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  let shot: Buffer;
  try {
    const page = await browser.newPage({
      viewport: { width: WIDTH, height: 900 },
      deviceScaleFactor: 1,
      colorScheme: 'light',
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await page.evaluate(() => document.fonts.ready);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    shot = await page.screenshot({
      fullPage: true,
      clip: { x: 0, y: 0, width: WIDTH, height: Math.min(height, MAX_HEIGHT) },
    });
  } finally {
    await browser.close();
  }

  // A palette PNG: the report is flat colours and text, so 256 colours lose nothing visible.
  const png = await sharp(shot)
    .png({ palette: true, colours: 256, compressionLevel: 9, effort: 10 })
    .toBuffer();
  if (png.length > MAX_BYTES) fail(`${out}: ${png.length} bytes, over the ${MAX_BYTES}-byte limit`);
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await fs.writeFile(out, png);
  const { width, height } = await sharp(png).metadata();
  process.stdout.write(`${out}: ${width}×${height}, ${(png.length / 1024).toFixed(0)} KiB, from ${html}\n`);
}

await main();
