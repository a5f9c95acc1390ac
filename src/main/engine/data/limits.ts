/**
 * Caps that keep a hostile or mistaken dataset from exhausting memory. Every importer checks the
 * size a dataset will need against these before it allocates.
 */

/** Default cap on the uint8 pixels of a whole dataset (all splits): 2 GiB. */
export const DEFAULT_MAX_DATASET_BYTES = 2 ** 31;

/**
 * Largest single image an image-folder importer will decode (width × height), to stop
 * decompression bombs: 64 megapixels, far beyond what a classifier is trained on.
 */
export const MAX_IMAGE_PIXELS = 2 ** 26;

/** Class-name files (classes.txt, batches.meta.txt, ...) are a few KB; refuse anything big. */
export const MAX_NAMES_FILE_BYTES = 1 << 20;

/** Most images an image folder may hold (before `limit`); a million is beyond any desktop set. */
export const MAX_FOLDER_IMAGES = 1_000_000;

/** 1234567 → "1,234,567": counts in messages read the same everywhere. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
