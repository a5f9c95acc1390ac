/**
 * Pollard's metadata travels inside model.json as `userDefinedMetadata.pollard` (a slot the
 * tfjs format reserves for applications; stock tfjs keeps it and ignores it).
 */
import { INPUT_SCALINGS, type InputScaling, normalizationOf } from '../data/input-scaling';
import { badInput } from '../../../shared/errors';
import { isRecord } from './safe-json';
import type { ModelMetadata } from './types';

export const POLLARD_METADATA_KEY = 'pollard';

const MAX_CLASSES = 100_000;
const MAX_CLASS_NAME = 256;

/** Read `userDefinedMetadata.pollard`; absent → `{}`. Malformed fields are refused by name. */
export function readPollardMetadata(userDefinedMetadata: unknown, file: string): ModelMetadata {
  if (!isRecord(userDefinedMetadata)) return {};
  const raw = userDefinedMetadata[POLLARD_METADATA_KEY];
  if (raw === undefined || raw === null) return {};
  const where = `userDefinedMetadata.${POLLARD_METADATA_KEY}`;
  if (!isRecord(raw)) throw badInput(file, `${where} must be an object`);
  const metadata: ModelMetadata = {};
  if (raw.classNames !== undefined) {
    const names = raw.classNames;
    if (
      !Array.isArray(names) ||
      names.length > MAX_CLASSES ||
      !names.every((n) => typeof n === 'string' && n.length <= MAX_CLASS_NAME)
    ) {
      throw badInput(
        file,
        `${where}.classNames must be a list of strings of at most ${MAX_CLASS_NAME} characters`,
      );
    }
    metadata.classNames = names as string[];
  }
  const named = isRecord(raw.normalization) ? raw.normalization.scaling : undefined;
  if (typeof named === 'string' && (INPUT_SCALINGS as readonly string[]).includes(named)) {
    // A named input scaling (imagenet, caffe: per channel) is rebuilt from its name.
    metadata.normalization = normalizationOf(named as InputScaling);
  } else if (raw.normalization !== undefined) {
    const n = raw.normalization;
    if (
      !isRecord(n) ||
      typeof n.scale !== 'number' ||
      !Number.isFinite(n.scale) ||
      typeof n.offset !== 'number' ||
      !Number.isFinite(n.offset)
    ) {
      throw badInput(file, `${where}.normalization must be {scale, offset} with finite numbers`);
    }
    metadata.normalization = { scale: n.scale, offset: n.offset };
  }
  if (raw.producedBy !== undefined) {
    if (!isRecord(raw.producedBy)) throw badInput(file, `${where}.producedBy must be an object`);
    metadata.producedBy = raw.producedBy;
  }
  return metadata;
}

/** The `userDefinedMetadata` object to write (only the fields that are set). */
export function pollardMetadataEntry(
  metadata: ModelMetadata | undefined,
): Record<string, unknown> | undefined {
  if (metadata === undefined) return undefined;
  const entry: Record<string, unknown> = {};
  if (metadata.classNames !== undefined) entry.classNames = [...metadata.classNames];
  if (metadata.normalization !== undefined) entry.normalization = { ...metadata.normalization };
  if (metadata.producedBy !== undefined) entry.producedBy = metadata.producedBy;
  return Object.keys(entry).length === 0 ? undefined : { [POLLARD_METADATA_KEY]: entry };
}
