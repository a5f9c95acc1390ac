/**
 * PDF from the HTML report, printed by a headless Chromium (Chrome, Chromium or Edge) found on
 * this machine or named by POLLARD_CHROMIUM. Where there is none, the error says so and how to
 * get one. (The desktop app can print the same HTML with Electron's webContents.printToPDF.)
 */
import { spawn } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ioError, unsupported } from '../../../shared/errors';
import { writeFileAtomic } from '../../util/atomic';
import { chromiumArgs } from './chromium';

const CANDIDATES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
    '/usr/bin/microsoft-edge',
  ],
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
  ],
  win32: [
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
  ],
};

export const CHROMIUM_HINT =
  'install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome, or set POLLARD_CHROMIUM=/path/to/chromium; the HTML report also prints to PDF from any browser';

async function executable(file: string): Promise<boolean> {
  try {
    await fs.access(file, process.platform === 'win32' ? fsConstants.F_OK : fsConstants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to print with, or why there is none. */
export async function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  candidates: readonly string[] = CANDIDATES[platform] ?? [],
): Promise<{ path: string } | { reason: string }> {
  const chosen = env.POLLARD_CHROMIUM?.trim();
  if (chosen) {
    return (await executable(chosen))
      ? { path: chosen }
      : { reason: `POLLARD_CHROMIUM=${chosen} is not an executable file` };
  }
  for (const candidate of candidates) if (await executable(candidate)) return { path: candidate };
  return {
    reason: `no Chromium or Chrome found (looked for ${candidates.length > 0 ? candidates.join(', ') : 'none on this platform'})`,
  };
}

function run(
  file: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export interface PdfOptions {
  /** Default: findChromium(). */
  chromium?: string;
  timeoutMs?: number;
}

/** Prints `html` (a self-contained page) to `pdfPath`. */
export async function renderPdf(html: string, pdfPath: string, options: PdfOptions = {}): Promise<void> {
  let chromium = options.chromium;
  if (chromium === undefined) {
    const found = await findChromium();
    if ('reason' in found)
      throw unsupported(pdfPath, `a PDF needs Chromium: ${found.reason}; ${CHROMIUM_HINT}`);
    chromium = found.path;
  }
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-pdf-'));
  try {
    const page = path.join(work, 'report.html');
    const printed = path.join(work, 'report.pdf');
    await fs.writeFile(page, html);
    const args = [
      '--headless',
      ...chromiumArgs(),
      '--disable-extensions',
      '--no-default-browser-check',
      `--user-data-dir=${path.join(work, 'profile')}`,
      '--no-pdf-header-footer',
      '--print-to-pdf-no-header',
      `--print-to-pdf=${printed}`,
      pathToFileURL(page).href,
    ];
    let result: { code: number | null; output: string };
    try {
      result = await run(chromium, args, options.timeoutMs ?? 120_000);
    } catch (error) {
      throw ioError(pdfPath, `could not start ${chromium}: ${(error as Error).message}; ${CHROMIUM_HINT}`);
    }
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(printed);
    } catch {
      const last = result.output.trim().split('\n').at(-1) ?? '';
      throw ioError(
        pdfPath,
        `${chromium} printed no PDF (exit code ${String(result.code)}${last ? `: ${last}` : ''})`,
      );
    }
    if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
      throw ioError(pdfPath, `${chromium} wrote a file that is not a PDF`);
    }
    await writeFileAtomic(pdfPath, bytes);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
