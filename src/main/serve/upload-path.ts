/**
 * The relative path of an uploaded file, as the browser sends it in the URL (each segment
 * URL-encoded). Anything that could leave the batch folder or confuse a file system is
 * refused: `.`/`..`, empty segments, separators or drive letters inside a segment, NUL and
 * other control characters, Windows device names, trailing dots or spaces.
 */
import { usageError } from '../../shared/errors';

export const MAX_UPLOAD_SEGMENTS = 16;
const MAX_SEGMENT_BYTES = 255;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

function problemWith(segment: string): string | undefined {
  if (segment === '') return 'has an empty segment';
  if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  if (/[/\\:]/.test(segment)) return 'has a separator, colon or drive letter inside a segment';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(segment)) return 'has a control character';
  if (/[. ]$/.test(segment)) return 'has a segment ending in a dot or space';
  if (WINDOWS_DEVICE.test(segment)) return `has a reserved device name "${segment}"`;
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return 'has a segment longer than 255 bytes';
  return undefined;
}

/** Decode and check the URL-encoded segments; returns the decoded segments. */
export function sanitizeUploadPath(encodedSegments: readonly string[]): string[] {
  if (encodedSegments.length === 0) throw usageError('upload: the file path is missing');
  if (encodedSegments.length > MAX_UPLOAD_SEGMENTS) {
    throw usageError(`upload: the file path has more than ${MAX_UPLOAD_SEGMENTS} segments`);
  }
  return encodedSegments.map((encoded) => {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      throw usageError('upload: the file path is not valid URL encoding');
    }
    const problem = problemWith(segment);
    if (problem) throw usageError(`upload: the file path ${problem}`);
    return segment;
  });
}
