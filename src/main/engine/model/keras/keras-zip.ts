/**
 * Reading the zip inside a Keras 3 `.keras` file. The central directory is checked before
 * anything is inflated: entry names (no `..`, no absolute paths), the number of entries, each
 * entry's declared size and compression ratio, and the total (Keras CVE-2025-1550 class of
 * bugs; zip bombs). Only the three members Keras writes are extracted, each into a buffer of
 * its declared size, so a member that lies about its size cannot grow past it.
 */
import { promises as fs } from 'node:fs';
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { badInput, ioError, unsupported } from '../../../../shared/errors';
import { readHead, sniffBytes, wrongContentError } from './sniff';

export interface KerasZipLimits {
  /** Largest `.keras` file read into memory. */
  maxFileBytes: number;
  /** Largest total of the declared uncompressed sizes. */
  maxTotalBytes: number;
  /** Largest `config.json` / `metadata.json`. */
  maxJsonBytes: number;
  maxEntries: number;
  /** Largest accepted uncompressed/compressed ratio for an entry over 1 MiB. */
  maxRatio: number;
}

export const KERAS_ZIP_LIMITS: KerasZipLimits = {
  maxFileBytes: 2 * 1024 ** 3,
  maxTotalBytes: 4 * 1024 ** 3,
  maxJsonBytes: 64 * 1024 ** 2,
  maxEntries: 10_000,
  maxRatio: 1000,
};

export interface KerasArchive {
  config: Uint8Array;
  /** Absent in some hand-made archives; Keras always writes it. */
  metadata: Uint8Array | undefined;
  /** Absent for a model without weights. */
  weights: Uint8Array | undefined;
}

const CONFIG = 'config.json';
const METADATA = 'metadata.json';
const WEIGHTS = 'model.weights.h5';

/** Why a zip entry name is unsafe to honour, or undefined when it is a plain relative name. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL byte';
  const normalized = name.replace(/\\/g, '/');
  if (normalized.startsWith('/') || /^[A-Za-z]:/.test(normalized)) return 'is an absolute path';
  if (normalized.split('/').includes('..')) return 'climbs out of the archive with ".."';
  return undefined;
}

function checkEntry(file: string, info: UnzipFileInfo, limits: KerasZipLimits): void {
  const unsafe = unsafeEntryName(info.name);
  if (unsafe) throw badInput(file, `zip entry "${info.name}" ${unsafe}; refusing the archive`);
  if (info.compression !== 0 && info.compression !== 8) {
    throw unsupported(file, `zip entry "${info.name}" uses compression method ${info.compression}`);
  }
  const mib = 1024 * 1024;
  if (info.originalSize > mib && info.originalSize > info.size * limits.maxRatio) {
    throw badInput(
      file,
      `zip entry "${info.name}" would expand from ${info.size} to ${info.originalSize} bytes (a zip bomb?); refusing the archive`,
    );
  }
  if ((info.name === CONFIG || info.name === METADATA) && info.originalSize > limits.maxJsonBytes) {
    throw badInput(
      file,
      `${info.name} is ${info.originalSize} bytes, over the ${limits.maxJsonBytes}-byte limit`,
    );
  }
}

/** Reads and checks a `.keras` archive; throws `<file>: <problem>` for anything unsafe. */
export async function readKerasArchive(
  file: string,
  limits: KerasZipLimits = KERAS_ZIP_LIMITS,
): Promise<KerasArchive> {
  const { head, size } = await readHead(file, 1024);
  const wrong = wrongContentError(file, sniffBytes(head), 'zip');
  if (wrong) throw wrong;
  if (size > limits.maxFileBytes) {
    throw unsupported(file, `is ${size} bytes, over the ${limits.maxFileBytes}-byte limit for .keras files`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw ioError(file, `could not read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return readKerasArchiveBytes(file, bytes, limits);
}

export function readKerasArchiveBytes(
  file: string,
  bytes: Uint8Array,
  limits: KerasZipLimits = KERAS_ZIP_LIMITS,
): KerasArchive {
  // First pass: the central directory only, nothing inflated.
  const entries: UnzipFileInfo[] = [];
  try {
    unzipSync(bytes, {
      filter: (info) => {
        entries.push(info);
        if (entries.length > limits.maxEntries) {
          throw badInput(file, `holds more than ${limits.maxEntries} zip entries`);
        }
        checkEntry(file, info, limits);
        return false;
      },
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'PollardError') throw error;
    throw badInput(file, `is not a readable zip archive (truncated or corrupt?): ${describe(error)}`);
  }
  const total = entries.reduce((sum, entry) => sum + entry.originalSize, 0);
  if (total > limits.maxTotalBytes) {
    throw badInput(
      file,
      `zip entries would expand to ${total} bytes, over the ${limits.maxTotalBytes}-byte limit`,
    );
  }
  const names = new Set<string>();
  for (const entry of entries) {
    if (names.has(entry.name)) throw badInput(file, `zip entry "${entry.name}" appears twice`);
    names.add(entry.name);
  }
  if (!names.has(CONFIG)) {
    throw badInput(file, `is a zip archive without ${CONFIG}, so not a Keras 3 .keras model`);
  }

  // Second pass: only the members Keras writes, each into a buffer of its declared size.
  let extracted: Record<string, Uint8Array>;
  try {
    extracted = unzipSync(bytes, {
      filter: (info) => info.name === CONFIG || info.name === METADATA || info.name === WEIGHTS,
    });
  } catch (error) {
    throw badInput(file, `could not extract the archive (corrupt?): ${describe(error)}`);
  }
  for (const entry of entries) {
    const data = extracted[entry.name];
    if (data !== undefined && data.length !== entry.originalSize) {
      throw badInput(
        file,
        `zip entry "${entry.name}" holds ${data.length} bytes, its header says ${entry.originalSize}`,
      );
    }
  }
  const config = extracted[CONFIG];
  if (config === undefined) throw badInput(file, `could not extract ${CONFIG}`);
  return { config, metadata: extracted[METADATA], weights: extracted[WEIGHTS] };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
