/**
 * Results a user can take away: which exported files lie inside the run folder (so
 * `pollard serve` can send them), their download links, and the report to open.
 */
import { downloadUrlPath, downloadZipUrlPath, type ExportResult } from '../../../shared/api';

export interface TakeawayFile {
  /** The host's path. */
  path: string;
  bytes: number;
  /** Relative to the run folder, with `/`; null when the file is outside it (Electron's own folder). */
  relative: string | null;
  /** The browser's download link, where the file is inside the run folder. */
  href: string | null;
}

/** `file` relative to `runDir` with `/`, or null when it is not inside. Works for / and \ paths. */
export function relativeToRun(runDir: string, file: string): string | null {
  const split = (p: string): string[] => p.split(/[\\/]+/).filter((s) => s !== '');
  const base = split(runDir);
  const parts = split(file);
  if (parts.length <= base.length || base.some((segment, i) => segment !== parts[i])) return null;
  const rest = parts.slice(base.length);
  return rest.some((s) => s === '.' || s === '..') ? null : rest.join('/');
}

export function takeawayFiles(runDir: string, result: ExportResult): TakeawayFile[] {
  return result.files.map((file) => {
    const relative = relativeToRun(runDir, file.path);
    return {
      path: file.path,
      bytes: file.bytes,
      relative,
      href: relative === null ? null : downloadUrlPath(runDir, relative),
    };
  });
}

/** The HTML report among the exported files (else the PDF), or null. */
export function reportFile(files: readonly TakeawayFile[]): TakeawayFile | null {
  const named = (extension: string): TakeawayFile | undefined =>
    files.find((f) => f.path.toLowerCase().endsWith(extension));
  return named('.html') ?? named('.pdf') ?? null;
}

/** The link that opens the report in a new browser tab, or null when it is outside the run folder. */
export function reportHref(runDir: string, report: TakeawayFile | null): string | null {
  return report?.relative ? downloadUrlPath(runDir, report.relative, true) : null;
}

export function zipHref(runDir: string): string {
  return downloadZipUrlPath(runDir);
}
