/**
 * URL path of one uploaded file: `/api/upload/<batchId>/<segment>/<segment>…`, each segment
 * URL-encoded. Paths the server would refuse anyway (`..`, absolute, drive letters, NUL, too
 * deep) are refused here first, with the file's name.
 */
import { PollardError } from '../../../shared/errors';

export const MAX_UPLOAD_SEGMENTS = 16;

export function uploadSegments(relativePath: string): string[] {
  const refuse = (problem: string): PollardError =>
    new PollardError('bad-input', `${relativePath}: ${problem}`, relativePath);
  if (relativePath.includes('\0')) throw refuse('the file name contains a NUL character');
  const normalised = relativePath.replace(/\\/g, '/');
  if (normalised.startsWith('/') || /^[A-Za-z]:/.test(normalised))
    throw refuse('absolute paths are not uploaded');
  const segments = normalised.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw refuse('empty file name');
  if (segments.includes('..')) throw refuse('paths with ".." are not uploaded');
  if (segments.length > MAX_UPLOAD_SEGMENTS)
    throw refuse(`nested deeper than ${MAX_UPLOAD_SEGMENTS} folders`);
  return segments;
}

export function uploadUrlPath(batchId: string, relativePath: string): string {
  return `/api/upload/${batchId}/${uploadSegments(relativePath).map(encodeURIComponent).join('/')}`;
}

/** 32 lowercase hex characters from the platform's CSPRNG. */
export function newBatchId(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
): string {
  return Array.from(random(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
