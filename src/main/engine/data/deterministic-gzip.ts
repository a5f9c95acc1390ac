/**
 * Gzip whose bytes depend only on the input: no timestamp, no file name, OS byte "Unix", level 9.
 * fflate is pure JavaScript, so the output is also the same on every platform and Node build
 * (node:zlib's deflate output can differ between zlib builds, e.g. with SIMD hashing).
 */
import { gzipSync } from 'fflate';

export function gzipDeterministic(data: Uint8Array): Uint8Array {
  return gzipSync(data, { level: 9, mtime: 0 });
}
