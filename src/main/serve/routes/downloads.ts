/**
 * Results a browser can take away from `pollard serve`:
 *
 *   GET /api/download?run=R&file=F[&inline=1]   one file of run folder R (F relative, with `/`)
 *   GET /api/download.zip?run=R                 R's export/ and report/ folders as one zip, streamed
 *
 * R must be a Pollard run (a valid run.json); F must stay inside R, also after symlinks are
 * resolved: `..`, absolute paths, backslashes and NUL are refused with 400, a file that
 * resolves outside the run with 403. Files are attachments, except `inline=1` for a report
 * (HTML, PDF, JSON, CSV), which opens in the browser; an inline HTML report is sandboxed.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Zip, ZipDeflate } from 'fflate';
import { readRun } from '../../services/runs';
import { HttpError, type RouteRequest, sendText } from '../http';

const INLINE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.pdf': 'application/pdf',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};
/** The report's own policy (no scripts), and a sandbox: the page gets no access to this origin. */
const REPORT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/** The folders of a run the zip carries. */
export const ZIPPED_FOLDERS = ['export', 'report'] as const;

function inside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** The run folder a request names: absolute, and holding a valid run.json. */
async function runFolderOf(query: URLSearchParams): Promise<string> {
  const run = query.get('run');
  if (!run || run.includes('\0') || !path.isAbsolute(run))
    throw new HttpError(400, 'download: run must be the absolute path of a run folder');
  const dir = path.resolve(run);
  try {
    await readRun(dir);
  } catch {
    throw new HttpError(404, `download: ${dir} is not a Pollard run folder`);
  }
  return fs.realpath(dir);
}

/** The segments of a file path relative to the run; anything that could leave it is refused. */
export function relativeSegments(file: string | null): string[] {
  if (!file) throw new HttpError(400, 'download: file is missing');
  if (file.includes('\0') || file.includes('\\') || file.startsWith('/') || /^[a-zA-Z]:/.test(file))
    throw new HttpError(400, 'download: file must be a path inside the run folder, with /');
  const segments = file.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..'))
    throw new HttpError(400, 'download: file must not have empty, "." or ".." segments');
  return segments;
}

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266). */
export function contentDisposition(kind: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function refuseNonGet({ request, response }: RouteRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  response.setHeader('Allow', 'GET, HEAD');
  sendText(response, 405, 'method not allowed');
  return true;
}

function reply(route: RouteRequest, error: unknown): void {
  if (!(error instanceof HttpError)) throw error;
  sendText(route.response, error.status, error.message);
}

export async function downloadFile(route: RouteRequest): Promise<void> {
  if (refuseNonGet(route)) return;
  const { request, response, query } = route;
  let file: string;
  let bytes: number;
  try {
    const runDir = await runFolderOf(query);
    const segments = relativeSegments(query.get('file'));
    const named = path.join(runDir, ...segments);
    file = await fs.realpath(named).catch(() => {
      throw new HttpError(404, `download: ${segments.join('/')}: not found in the run folder`);
    });
    if (!inside(runDir, file))
      throw new HttpError(403, `download: ${segments.join('/')}: outside the run folder`);
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new HttpError(404, `download: ${segments.join('/')}: not a file`);
    bytes = stat.size;
  } catch (error) {
    reply(route, error);
    return;
  }
  const inlineType = query.get('inline') === '1' ? INLINE_TYPES[path.extname(file).toLowerCase()] : undefined;
  if (inlineType?.startsWith('text/html')) response.setHeader('Content-Security-Policy', REPORT_CSP);
  response.writeHead(200, {
    'Content-Type': inlineType ?? 'application/octet-stream',
    'Content-Length': bytes,
    'Content-Disposition': contentDisposition(inlineType ? 'inline' : 'attachment', path.basename(file)),
    'Cache-Control': 'no-store',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

/** Regular files under `dir` (symlinks skipped), as paths relative to `base` with `/`, sorted. */
async function filesUnder(base: string, dir: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(base, dir), { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await filesUnder(base, child)));
    else if (entry.isFile()) files.push(child);
  }
  return files;
}

/** Until the response can take more, or is gone. */
function drained(response: RouteRequest['response']): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.once('drain', done);
    response.once('close', done);
  });
}

export async function downloadZip(route: RouteRequest): Promise<void> {
  if (refuseNonGet(route)) return;
  const { request, response, query } = route;
  let runDir: string;
  let files: string[];
  try {
    runDir = await runFolderOf(query);
    files = (await Promise.all(ZIPPED_FOLDERS.map((folder) => filesUnder(runDir, folder)))).flat();
    if (files.length === 0) throw new HttpError(404, 'download: this run has no export or report yet');
  } catch (error) {
    reply(route, error);
    return;
  }
  const name = path.basename(runDir);
  response.writeHead(200, {
    'Content-Type': 'application/zip',
    'Content-Disposition': contentDisposition('attachment', `${name}-export.zip`),
    'Cache-Control': 'no-store',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  let failed = false;
  const zip = new Zip((error, chunk, final) => {
    if (error) {
      failed = true;
      response.destroy(error);
      return;
    }
    response.write(chunk);
    if (final) response.end();
  });
  try {
    for (const file of files) {
      const entry = new ZipDeflate(`${name}/${file}`, { level: 6 });
      zip.add(entry);
      for await (const chunk of createReadStream(path.join(runDir, ...file.split('/')))) {
        entry.push(chunk as Buffer);
        if (failed || response.destroyed) return;
        if (response.writableNeedDrain) await drained(response);
      }
      entry.push(new Uint8Array(0), true);
    }
    zip.end();
  } catch {
    // A file vanished or the client went away mid-stream: the zip cannot be finished.
    response.destroy();
  }
}
