/**
 * JSON from model files is untrusted: it is size-capped before it is read, depth-capped before
 * it is parsed (a reviver recurses, so 100,000 nested brackets would overflow the stack), and
 * keys that could reach a prototype (`__proto__`, `constructor`, `prototype`) are dropped, so
 * no later merge or lookup can be steered through them.
 */
import { promises as fs } from 'node:fs';
import { badInput, ioError } from '../../../shared/errors';

export interface JsonLimits {
  /** Largest accepted text, in bytes. */
  maxBytes: number;
  /** Deepest accepted nesting of objects and arrays. */
  maxDepth: number;
}

/** model.json: topology plus manifest. Real ones are well under 1 MB; 64 MB leaves room for inline configs. */
export const MODEL_JSON_LIMITS: JsonLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 100 };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${bytes} bytes`;
}

/** Deepest bracket nesting outside strings; stops counting as soon as `limit` is passed. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** Parse untrusted JSON text. Throws `badInput(file, …)` for oversize, too deep, or invalid text. */
export function parseJsonSafe(
  text: string | Uint8Array,
  file: string,
  limits: JsonLimits = MODEL_JSON_LIMITS,
): unknown {
  const byteLength = typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.byteLength;
  if (byteLength > limits.maxBytes) {
    throw badInput(
      file,
      `JSON is ${describeBytes(byteLength)}, over the ${describeBytes(limits.maxBytes)} limit`,
    );
  }
  let source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: false }).decode(text);
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  if (nestingDepth(source, limits.maxDepth) > limits.maxDepth) {
    throw badInput(file, `JSON is nested deeper than ${limits.maxDepth} levels`);
  }
  try {
    return JSON.parse(source, (key, value: unknown) => (FORBIDDEN_KEYS.has(key) ? undefined : value));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw badInput(file, `invalid JSON (${detail})`);
  }
}

/** Read and parse an untrusted JSON file, checking its size before reading it. */
export async function readJsonFileSafe(
  file: string,
  limits: JsonLimits = MODEL_JSON_LIMITS,
): Promise<unknown> {
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch (error) {
    throw ioError(file, describeReadError(error));
  }
  if (size > limits.maxBytes) {
    throw badInput(file, `JSON is ${describeBytes(size)}, over the ${describeBytes(limits.maxBytes)} limit`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw ioError(file, describeReadError(error));
  }
  return parseJsonSafe(bytes, file, limits);
}

export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return `could not read (${error instanceof Error ? error.message : String(error)})`;
}

/** A plain, non-null, non-array object (after JSON parsing). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
