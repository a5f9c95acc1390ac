/**
 * Free-form metadata a model file carries (TF.js `userDefinedMetadata`, ONNX `metadata_props`),
 * flattened to "key.sub" → string for the input-scaling guess (rule 3) to read. The walk is
 * bounded: at most `maxEntries` entries and `maxVisits` values are looked at, keys and values are
 * cut to their caps, and nothing deeper than `maxDepth` is entered, so a hostile file can make
 * this neither slow nor large. Control characters become spaces (the values end up in the UI).
 */
import { POLLARD_METADATA_KEY } from './model-metadata';

export interface FileMetadataLimits {
  maxEntries: number;
  maxVisits: number;
  maxDepth: number;
  maxKeyChars: number;
  maxValueChars: number;
}

export const FILE_METADATA_LIMITS: FileMetadataLimits = {
  maxEntries: 256,
  maxVisits: 4096,
  maxDepth: 8,
  maxKeyChars: 128,
  maxValueChars: 1024,
};

/** At most this many items of an array of numbers, strings or booleans are written out. */
const MAX_LIST_ITEMS = 16;

function clean(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Flatten JSON-like metadata: nested objects become "a.b", arrays of objects "a.0.b", arrays of
 * primitives one value "[x, y]". Pollard's own entry (`pollard`, read as stored metadata) is left
 * out. Non-JSON values (functions, symbols, null) are skipped.
 */
export function flattenMetadata(
  value: unknown,
  limits: FileMetadataLimits = FILE_METADATA_LIMITS,
): Record<string, string> {
  // A Map, so that a key such as "__proto__" is an entry like any other.
  const out = new Map<string, string>();
  let visits = 0;
  const put = (key: string, text: string): void => {
    const k = clean(key, limits.maxKeyChars);
    if (!out.has(k) && out.size < limits.maxEntries) out.set(k, clean(text, limits.maxValueChars));
  };
  const walk = (v: unknown, key: string, depth: number): void => {
    if (out.size >= limits.maxEntries || ++visits > limits.maxVisits) return;
    if (isPrimitive(v)) {
      if (key !== '') put(key, String(v));
      return;
    }
    if (depth >= limits.maxDepth) return;
    if (Array.isArray(v)) {
      const head = v.slice(0, MAX_LIST_ITEMS);
      if (key !== '' && head.length > 0 && head.every(isPrimitive)) {
        const items = head.map(String);
        put(key, `[${items.join(', ')}${v.length > MAX_LIST_ITEMS ? ', …' : ''}]`);
        return;
      }
      const n = Math.min(v.length, limits.maxVisits);
      for (let i = 0; i < n && visits < limits.maxVisits; i++) {
        walk(v[i], key === '' ? String(i) : `${key}.${i}`, depth + 1);
      }
      return;
    }
    if (!isPlainRecord(v)) return;
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      if (visits >= limits.maxVisits || out.size >= limits.maxEntries) return;
      if (depth === 0 && k === POLLARD_METADATA_KEY) continue;
      walk(v[k], key === '' ? k : `${key}.${k}`, depth + 1);
    }
  };
  walk(value, '', 0);
  return Object.fromEntries(out);
}
