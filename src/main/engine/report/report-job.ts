/**
 * `report` job: the energy-savings report of a run folder in any of html, pdf, json and csv.
 * `out` is a folder (default `<run>/report/`, files named report.<format>) or, for one format, a
 * file with that format's extension. The PDF is printed last, from the same HTML, so a missing
 * Chromium costs only the PDF.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ioError, usageError } from '../../../shared/errors';
import type { ReportFormat, SpecOf } from '../../../shared/jobs';
import { REPORT_FORMATS } from '../../../shared/jobs';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic';
import { gridSettingsFromEnv, type GridSettings } from '../energy/carbon';
import type { JobContext } from '../job/context';
import { collectReport } from './collect';
import { energyText, type EnergyText } from './energy-text';
import { renderReportCsv } from './csv';
import { renderReportHtml } from './html';
import { renderPdf } from './pdf';
import type { ReportDocument, ReportSummary } from './report-types';

export const DEFAULT_REPORT_FOLDER = 'report';

export interface WriteReportOptions {
  formats: readonly ReportFormat[];
  /** A folder, or a file for a single format; default `<run>/report/`. */
  out?: string;
  paper?: 'a4' | 'letter';
  grid?: GridSettings;
  /** Fixed timestamp (tests). */
  now?: Date;
  chromium?: string;
  onStage?: (stage: string, detail?: string) => void;
}

export interface WrittenReport {
  document: ReportDocument;
  files: Partial<Record<ReportFormat, string>>;
}

/** Where each format goes. */
export function reportPaths(
  runDir: string,
  formats: readonly ReportFormat[],
  out?: string,
): Partial<Record<ReportFormat, string>> {
  const unique = [...new Set(formats)];
  if (unique.length === 0)
    throw usageError(`report: give at least one format (${REPORT_FORMATS.join(', ')})`);
  const target = out ?? path.join(runDir, DEFAULT_REPORT_FOLDER);
  const extension = path.extname(target).slice(1).toLowerCase();
  if ((REPORT_FORMATS as readonly string[]).includes(extension)) {
    if (unique.length > 1) {
      throw usageError(
        `report --out ${target}: a file holds one format; give a folder for ${unique.join(', ')}`,
      );
    }
    if (extension !== unique[0]) {
      throw usageError(
        `report --out ${target}: the file name says ${extension} but the format is ${unique[0]}`,
      );
    }
    return { [unique[0]!]: target };
  }
  return Object.fromEntries(unique.map((format) => [format, path.join(target, `report.${format}`)]));
}

/** Writes `document` to each path: JSON, CSV and HTML first, then the PDF printed from the HTML. */
export async function writeReportFiles(
  document: ReportDocument,
  paths: Partial<Record<ReportFormat, string>>,
  options: Pick<WriteReportOptions, 'paper' | 'chromium' | 'onStage'> = {},
): Promise<Partial<Record<ReportFormat, string>>> {
  for (const file of Object.values(paths)) {
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
    } catch (error) {
      throw ioError(path.dirname(file), `could not create the folder: ${(error as Error).message}`);
    }
  }
  const files: Partial<Record<ReportFormat, string>> = {};
  if (paths.json) {
    await writeJsonAtomic(paths.json, document);
    files.json = paths.json;
  }
  if (paths.csv) {
    await writeFileAtomic(paths.csv, renderReportCsv(document));
    files.csv = paths.csv;
  }
  if (paths.html) {
    await writeFileAtomic(paths.html, renderReportHtml(document));
    files.html = paths.html;
  }
  if (paths.pdf) {
    options.onStage?.('pdf', paths.pdf);
    try {
      await renderPdf(renderReportHtml(document, { paper: options.paper ?? 'a4' }), paths.pdf, {
        ...(options.chromium ? { chromium: options.chromium } : {}),
      });
    } catch (error) {
      const written = Object.values(files);
      if (written.length > 0 && error instanceof Error) {
        error.message += ` (written: ${written.map((file) => path.basename(file)).join(', ')})`;
      }
      throw error;
    }
    files.pdf = paths.pdf;
  }
  return files;
}

/** Collects the report of `runDir` and writes it in each format. */
export async function writeReport(runDir: string, options: WriteReportOptions): Promise<WrittenReport> {
  const paths = reportPaths(runDir, options.formats, options.out);
  options.onStage?.('collect', runDir);
  const document = await collectReport(runDir, {
    ...(options.grid ? { grid: options.grid } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return { document, files: await writeReportFiles(document, paths, options) };
}

export interface ReportJobResult {
  kind: 'report';
  runDir: string;
  /** The HTML report where written, else the first file written. */
  report: string;
  files: Partial<Record<ReportFormat, string>>;
  schemaVersion: number;
  title: string;
  summary: ReportSummary | null;
  /** The energy section in plain text (headline and rows), as the CLI prints it. */
  energy: EnergyText;
}

export async function runReportJob(spec: SpecOf<'report'>, ctx: JobContext): Promise<ReportJobResult> {
  const runDir = path.resolve(spec.run);
  const grid: GridSettings = { ...gridSettingsFromEnv(), ...(spec.grid ?? {}) };
  const { document, files } = await writeReport(runDir, {
    formats: spec.formats,
    ...(spec.out !== undefined ? { out: path.resolve(spec.out) } : {}),
    paper: spec.paper,
    grid,
    onStage: (stage, detail) => {
      ctx.throwIfCancelled();
      ctx.emit({ type: 'stage', stage: `report: ${stage}`, ...(detail ? { detail } : {}) });
    },
  });
  return {
    kind: 'report',
    runDir,
    report: files.html ?? Object.values(files)[0]!,
    files,
    schemaVersion: document.schemaVersion,
    title: document.title,
    summary: document.summary,
    energy: energyText(document.kind, document.energy),
  };
}
