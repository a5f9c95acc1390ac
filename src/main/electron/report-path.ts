/**
 * Which files `openReport` may hand to the OS: an existing regular .html or .pdf file, never a
 * symlink or anything the OS would run. Kept apart from dialogs.ts so it is tested without Electron.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The report files `openReport` hands to the OS viewer: nothing else, so nothing is ever run. */
export const REPORT_EXTENSIONS = ['.html', '.pdf'] as const;

/** Why `file` may not be opened as a report, or null when it may (an existing .html/.pdf file). */
export async function reportProblem(file: string): Promise<string | null> {
  if (!(REPORT_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase()))
    return 'not a report (only .html and .pdf files are opened)';
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat) return 'not found';
  if (!stat.isFile()) return 'not a regular file';
  return null;
}
