/**
 * Files of the built renderer (out/renderer), served by `pollard serve` over HTTP and by the
 * Electron app's `app://` protocol. A URL path maps to a file inside the root or to nothing:
 * no `..`, no dot-files, no encoded separators, no NUL.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file under `root` that a URL path (without query or fragment) names, or null when the
 * path is malformed or tries to leave the root. `/` is `index.html`.
 */
export function staticFilePath(root: string, urlPath: string): string | null {
  if (!urlPath.startsWith('/')) return null;
  const raw = urlPath === '/' ? ['index.html'] : urlPath.slice(1).split('/');
  const segments: string[] = [];
  for (const encoded of raw) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return null;
    }
    if (segment === '' || segment.startsWith('.') || /[/\\\0:]/.test(segment)) return null;
    segments.push(segment);
  }
  const resolvedRoot = path.resolve(root);
  const file = path.resolve(resolvedRoot, ...segments);
  return file.startsWith(resolvedRoot + path.sep) ? file : null;
}

/** The regular file a URL path names, with its size, or null (missing, a folder, malformed). */
export async function findStaticFile(
  root: string,
  urlPath: string,
): Promise<{ file: string; bytes: number } | null> {
  const file = staticFilePath(root, urlPath);
  if (!file) return null;
  const stat = await fs.stat(file).catch(() => undefined);
  return stat?.isFile() ? { file, bytes: stat.size } : null;
}

/** Hashed build assets never change; everything else is revalidated. */
export function cacheControlOf(urlPath: string): string {
  return urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}
