/**
 * The demo's report in `<run>/report/`: HTML, JSON and CSV always; the PDF too where Chromium is
 * present. A missing or failing Chromium is a note, not a failed demo.
 */
import path from 'node:path';
import type { ReportFormat } from '../../../shared/jobs';
import { gridSettingsFromEnv } from '../energy/carbon';
import { collectReport } from './collect';
import { findChromium } from './pdf';
import { DEFAULT_REPORT_FOLDER, reportPaths, writeReportFiles } from './report-job';

export interface DemoReport {
  html: string;
  files: Partial<Record<ReportFormat, string>>;
  notes: string[];
}

export async function writeDemoReport(runDir: string): Promise<DemoReport> {
  const out = path.join(runDir, DEFAULT_REPORT_FOLDER);
  const document = await collectReport(runDir, { grid: gridSettingsFromEnv() });
  const files = await writeReportFiles(document, reportPaths(runDir, ['html', 'json', 'csv'], out));
  const notes: string[] = [];
  const chromium = await findChromium();
  if ('reason' in chromium) notes.push(`report: no PDF (${chromium.reason})`);
  else {
    try {
      Object.assign(
        files,
        await writeReportFiles(document, reportPaths(runDir, ['pdf'], out), { chromium: chromium.path }),
      );
    } catch (error) {
      notes.push(`report: no PDF (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return { html: files.html!, files, notes };
}
