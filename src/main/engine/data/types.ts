/**
 * Datasets in memory. Pixels stay uint8 (NHWC) until a batch is made; a batch is converted to
 * float32 and normalised on the fly, so a 60,000-image set costs 47 MB, not 188 MB.
 */
import type { DatasetFormat, DatasetInfo } from '../../../shared/types';

export interface DatasetSplit {
  /** N × H × W × C bytes, row-major NHWC. */
  images: Uint8Array;
  /** N class indices. */
  labels: Uint8Array | Uint16Array;
  count: number;
}

export interface Dataset {
  format: DatasetFormat;
  /** The path the user gave (file or folder). */
  source: string;
  /** [height, width, channels] */
  shape: [number, number, number];
  classNames: string[];
  train: DatasetSplit;
  test?: DatasetSplit;
  notes: string[];
}

/** What an importer is shown: a path and, for a folder, its entries. */
export interface DatasetEntry {
  path: string;
  isDirectory: boolean;
  /** For a folder: the names of the files and folders directly inside it. */
  names: string[];
  /** For a folder: which of `names` are folders (symbolic links not followed). */
  folders?: string[];
}

export interface OpenOptions {
  /** Use only the first N samples of each split (after class-balanced order is kept). */
  limit?: number;
  /** Image folders: target [height, width]; otherwise the most common size is used. */
  size?: [number, number];
  /** Image folders: 1 (grayscale) or 3 (RGB); default: 3 unless every image is grayscale. */
  channels?: 1 | 3;
  /** Refuse a dataset whose pixels (all splits, after `limit`) need more bytes; default 2 GiB. */
  maxBytes?: number;
}

/** A format factory in Netron's shape: `match` is cheap and never throws; `open` validates before it allocates. */
export interface DatasetImporter {
  readonly format: DatasetFormat;
  match(entry: DatasetEntry): boolean;
  open(entry: DatasetEntry, options: OpenOptions): Promise<Dataset>;
}

export type { DatasetInfo };
