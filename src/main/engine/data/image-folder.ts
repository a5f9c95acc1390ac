/**
 * A folder of class folders of images: `root/<class>/*.png|jpg|jpeg|webp`, or with splits,
 * `root/train/<class>/...` plus `root/test/<class>/...` (or `val/`, `validation/`). Decoded
 * with sharp (libvips).
 *
 * Policy, also written into `Dataset.notes`:
 * - Classes are the class folders' names, sorted by code point (so "B" before "a", "10" before
 *   "2"); with splits, the training folder's classes, and every test class must be one of them.
 * - Size: `options.size`, else the most common size in the set (ties: the one met first).
 *   Images of another size are scaled to cover it and center-cropped (sharp `fit: 'cover'`),
 *   so nothing is stretched and no borders are added.
 * - Channels: `options.channels`, else 1 if every image is stored as grayscale, else 3.
 *   Transparency is flattened onto black (transparent pixels become 0, as MNIST-style
 *   white-on-black images expect), then the alpha channel is dropped.
 * - Samples are ordered round-robin across classes (the first image of every class, then the
 *   second, ...), so `limit` keeps the classes balanced; files within a class by name.
 * - Refused: symbolic links leading out of the root, files that are not PNG, JPEG or WebP
 *   by their first bytes (SVG, GIF, ... renamed; no other libvips loader runs), images declaring more than MAX_IMAGE_PIXELS pixels
 *   (decompression bombs, checked from the header before decoding), corrupt images, empty
 *   class folders, and a total over the memory cap (checked before any pixel is decoded).
 * - Ignored (and counted in the notes): files without an image extension, subfolders inside
 *   class folders, hidden files.
 */
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { PollardError, badInput, ioError } from '../../../shared/errors';
import { DEFAULT_MAX_DATASET_BYTES, MAX_FOLDER_IMAGES, MAX_IMAGE_PIXELS, formatCount } from './limits';
import type { Dataset, DatasetEntry, DatasetImporter, DatasetSplit, OpenOptions } from './types';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);
const DECODABLE_FORMATS = new Set(['png', 'jpeg', 'webp']);
const TEST_FOLDER_NAMES = ['test', 'val', 'validation', 'valid'];
/** Images decoded at once; libvips threads inside each decode as well. */
const CONCURRENCY = 4;
/** Labels are stored as uint16. */
const MAX_CLASSES = 65_536;

interface ImageFile {
  file: string;
  label: number;
}

interface Ignored {
  nonImages: string[];
  subfolders: string[];
  outsideClasses: string[];
}

interface ImageHeader {
  width: number;
  height: number;
  grayscale: boolean;
  hasAlpha: boolean;
}

function isHidden(name: string): boolean {
  return name.startsWith('.');
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readFolder(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw ioError(
      dir,
      code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message,
    );
  }
}

/**
 * What a folder entry really is, following a symbolic link only when it stays inside `root`
 * (both real paths).
 */
async function resolveKind(root: string, dir: string, dirent: Dirent): Promise<'file' | 'folder' | 'other'> {
  if (dirent.isFile()) return 'file';
  if (dirent.isDirectory()) return 'folder';
  if (!dirent.isSymbolicLink()) return 'other';
  const link = path.join(dir, dirent.name);
  let target: string;
  try {
    target = await fs.realpath(link);
  } catch {
    throw badInput(link, 'symbolic link leads nowhere (its target does not exist)');
  }
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw badInput(link, `symbolic link leads outside the dataset folder (to ${target}); refusing it`);
  }
  const stat = await fs.stat(target);
  return stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other';
}

/** Class folders of one split: name → folder path. Files beside them are ignored. */
async function classFolders(root: string, splitDir: string, ignored: Ignored): Promise<Map<string, string>> {
  const classes = new Map<string, string>();
  for (const dirent of await readFolder(splitDir)) {
    if (isHidden(dirent.name)) continue;
    const kind = await resolveKind(root, splitDir, dirent);
    if (kind === 'folder') classes.set(dirent.name, path.join(splitDir, dirent.name));
    else ignored.outsideClasses.push(path.join(splitDir, dirent.name));
  }
  return classes;
}

async function imagesOfClass(root: string, classDir: string, ignored: Ignored): Promise<string[]> {
  const images: string[] = [];
  for (const dirent of await readFolder(classDir)) {
    if (isHidden(dirent.name)) continue;
    const kind = await resolveKind(root, classDir, dirent);
    const file = path.join(classDir, dirent.name);
    if (kind === 'folder') ignored.subfolders.push(file);
    else if (kind === 'file' && IMAGE_EXTENSIONS.has(path.extname(dirent.name).toLowerCase()))
      images.push(file);
    else ignored.nonImages.push(file);
  }
  if (images.length === 0) {
    throw badInput(classDir, 'class folder holds no images (.png, .jpg, .jpeg or .webp)');
  }
  return images.sort(byCodePoint);
}

/** Round-robin over the classes: every class's first image, then every class's second, ... */
function interleave(perClass: string[][]): ImageFile[] {
  const out: ImageFile[] = [];
  const longest = Math.max(0, ...perClass.map((files) => files.length));
  for (let i = 0; i < longest; i++) {
    perClass.forEach((files, label) => {
      const file = files[i];
      if (file !== undefined) out.push({ file, label });
    });
  }
  return out;
}

async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function sharpMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/:\s*$/, '');
}

/**
 * Whether the file starts like PNG, JPEG or WebP. Checked before libvips sees the file, so no
 * other loader (SVG, PDF, TIFF, ...) ever parses a file from a dataset folder.
 */
async function hasImageSignature(file: string): Promise<boolean> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const head = Buffer.alloc(12);
    const { bytesRead } = await handle.read(head, 0, 12, 0);
    if (bytesRead < 12) return false;
    const png = head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const jpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
    const webp = head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP';
    return png || jpeg || webp;
  } catch (error) {
    throw ioError(file, `cannot be read (${(error as Error).message})`);
  } finally {
    await handle?.close();
  }
}

/** Header only: size, grayscale, alpha. Refuses other formats and decompression bombs. */
async function readHeader(file: string): Promise<ImageHeader> {
  if (!(await hasImageSignature(file))) {
    throw badInput(file, 'is not a PNG, JPEG or WebP file (judged by its first bytes)');
  }
  let metadata: Metadata;
  try {
    // The header is read without a pixel limit so a bomb can be reported with its size.
    metadata = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw badInput(file, `cannot be read as an image (${sharpMessage(error)})`);
  }
  const { format, width, height } = metadata;
  if (!DECODABLE_FORMATS.has(format)) {
    throw badInput(file, `is a ${format} image; only PNG, JPEG and WebP are read`);
  }
  if (!(width >= 1 && height >= 1)) {
    throw badInput(file, `declares an image of ${width}×${height} pixels`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw badInput(
      file,
      `declares ${formatCount(width)}×${formatCount(height)} pixels, over the limit of ${formatCount(MAX_IMAGE_PIXELS)}; refusing a possible decompression bomb`,
    );
  }
  return {
    width,
    height,
    grayscale: metadata.space === 'b-w' || metadata.channels <= 2,
    hasAlpha: metadata.hasAlpha,
  };
}

/** Decode, flatten, resize and convert one image into `out` (height × width × channels bytes). */
async function decodeInto(
  file: string,
  header: ImageHeader,
  [height, width, channels]: [number, number, number],
  out: Uint8Array,
): Promise<void> {
  let pipeline = sharp(file, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' });
  if (header.hasAlpha) pipeline = pipeline.flatten({ background: '#000000' });
  if (header.width !== width || header.height !== height) {
    pipeline = pipeline.resize(width, height, { fit: 'cover', position: 'centre' });
  }
  pipeline = pipeline.toColourspace(channels === 1 ? 'b-w' : 'srgb');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw badInput(file, `cannot be decoded (${sharpMessage(error)})`);
  }
  const { data, info } = decoded;
  if (info.width !== width || info.height !== height) {
    throw badInput(file, `decoded to ${info.width}×${info.height}, expected ${width}×${height}`);
  }
  if (info.channels === channels) {
    out.set(data.subarray(0, out.length));
  } else if (info.channels === 1 && channels === 3) {
    for (let p = 0; p < width * height; p++) out.fill(data[p]!, p * 3, p * 3 + 3);
  } else {
    throw badInput(file, `decoded to ${info.channels} channels, expected ${channels}`);
  }
}

/** The most common size; ties go to the size met first in sample order. */
function mostCommonSize(headers: ImageHeader[]): [number, number] {
  const counts = new Map<string, { count: number; size: [number, number] }>();
  let best: { count: number; size: [number, number] } | undefined;
  for (const { width, height } of headers) {
    const key = `${height}x${width}`;
    const slot = counts.get(key) ?? { count: 0, size: [height, width] as [number, number] };
    slot.count += 1;
    counts.set(key, slot);
    if (best === undefined || slot.count > best.count) best = slot;
  }
  return best!.size;
}

interface SplitPlan {
  name: string;
  dir: string;
  files: ImageFile[];
  headers: ImageHeader[];
}

function listSample(files: string[], root: string): string {
  const shown = files.slice(0, 3).map((file) => path.relative(root, file));
  return shown.join(', ') + (files.length > 3 ? ', ...' : '');
}

async function openImageFolder(entry: DatasetEntry, options: OpenOptions): Promise<Dataset> {
  const root = await fs.realpath(entry.path).catch((error: unknown) => {
    throw ioError(entry.path, (error as Error).message);
  });
  const notes: string[] = [];
  const ignored: Ignored = { nonImages: [], subfolders: [], outsideClasses: [] };
  const folders = entry.folders ?? [];
  const trainName = folders.find((name) => name.toLowerCase() === 'train');
  const testName = TEST_FOLDER_NAMES.map((wanted) =>
    folders.find((name) => name.toLowerCase() === wanted),
  ).find((name) => name !== undefined);

  let trainDir = root;
  let testDir: string | undefined;
  if (trainName !== undefined) {
    trainDir = path.join(root, trainName);
    testDir = testName !== undefined ? path.join(root, testName) : undefined;
    notes.push(
      `Splits from folders: training from ${trainName}/` +
        (testName !== undefined ? `, test from ${testName}/.` : '; no test folder.'),
    );
    const others = folders.filter((name) => name !== trainName && name !== testName && !isHidden(name));
    if (others.length > 0) notes.push(`Folders beside the splits were ignored: ${others.join(', ')}.`);
  }

  const trainClasses = await classFolders(root, trainDir, ignored);
  if (trainClasses.size === 0) {
    throw badInput(trainDir, 'holds no class folders (expected <class>/<image files>)');
  }
  if (trainClasses.size > MAX_CLASSES) {
    throw badInput(
      trainDir,
      `holds ${formatCount(trainClasses.size)} class folders, more than ${formatCount(MAX_CLASSES)}`,
    );
  }
  const classNames = [...trainClasses.keys()].sort(byCodePoint);
  const trainFiles = interleave(
    await Promise.all(classNames.map((name) => imagesOfClass(root, trainClasses.get(name)!, ignored))),
  );
  let testFiles: ImageFile[] | undefined;
  if (testDir !== undefined) {
    const testClasses = await classFolders(root, testDir, ignored);
    for (const [name, dir] of testClasses) {
      if (!trainClasses.has(name)) throw badInput(dir, `class "${name}" has no folder in the training split`);
    }
    const perClass = await Promise.all(
      classNames.map((name) => {
        const dir = testClasses.get(name);
        return dir === undefined ? Promise.resolve([]) : imagesOfClass(root, dir, ignored);
      }),
    );
    testFiles = interleave(perClass);
  }
  const total = trainFiles.length + (testFiles?.length ?? 0);
  if (total > MAX_FOLDER_IMAGES) {
    throw badInput(
      entry.path,
      `holds ${formatCount(total)} images, more than ${formatCount(MAX_FOLDER_IMAGES)}`,
    );
  }

  const limit = options.limit ?? Infinity;
  const splits: SplitPlan[] = [];
  for (const [name, dir, files] of [
    ['train', trainDir, trainFiles],
    ['test', testDir, testFiles],
  ] as const) {
    if (dir === undefined || files === undefined) continue;
    const kept = files.slice(0, Math.min(files.length, limit));
    splits.push({
      name,
      dir,
      files: kept,
      headers: await mapLimit(kept, CONCURRENCY, ({ file }) => readHeader(file)),
    });
  }
  if (splits[1]?.files.length === 0) splits.pop();

  const allHeaders = splits.flatMap((split) => split.headers);
  const [height, width] = options.size ?? mostCommonSize(allHeaders);
  const channels = options.channels ?? (allHeaders.every((header) => header.grayscale) ? 1 : 3);
  const sampleBytes = height * width * channels;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  const needed = allHeaders.length * sampleBytes;
  if (needed > maxBytes) {
    throw badInput(
      entry.path,
      `${formatCount(allHeaders.length)} images of ${height}×${width}×${channels} need ${formatCount(needed)} bytes, over the limit of ${formatCount(maxBytes)}; use a limit on the number of samples or a smaller size`,
    );
  }

  const resized = allHeaders.filter((h) => h.width !== width || h.height !== height).length;
  notes.push(
    options.size
      ? `Images sized ${height}×${width} as requested.`
      : `Images sized ${height}×${width}, the most common size in the set.`,
  );
  if (resized > 0) {
    notes.push(
      `${formatCount(resized)} images of other sizes were scaled to cover ${height}×${width} and center-cropped.`,
    );
  }
  notes.push(
    options.channels
      ? `${channels} channel${channels === 1 ? '' : 's'} as requested.`
      : channels === 1
        ? '1 channel: every image is grayscale.'
        : '3 channels (RGB): not every image is grayscale.',
  );
  if (allHeaders.some((h) => h.hasAlpha))
    notes.push('Transparency was flattened onto black and the alpha channel dropped.');
  notes.push(
    'Classes are the class folder names sorted by code point; samples are interleaved class by class.',
  );
  if (ignored.nonImages.length > 0) {
    notes.push(
      `Ignored ${formatCount(ignored.nonImages.length)} files that are not .png, .jpg, .jpeg or .webp (${listSample(ignored.nonImages, root)}).`,
    );
  }
  if (ignored.subfolders.length > 0) {
    notes.push(
      `Ignored ${formatCount(ignored.subfolders.length)} folders inside class folders (${listSample(ignored.subfolders, root)}).`,
    );
  }
  if (ignored.outsideClasses.length > 0) {
    notes.push(
      `Ignored ${formatCount(ignored.outsideClasses.length)} files beside the class folders (${listSample(ignored.outsideClasses, root)}).`,
    );
  }
  if (options.limit !== undefined) {
    notes.push(
      `Limited to the first ${formatCount(options.limit)} samples of each split (classes interleaved).`,
    );
  }

  const decoded: DatasetSplit[] = [];
  for (const split of splits) {
    const images = new Uint8Array(split.files.length * sampleBytes);
    const labels =
      classNames.length > 256 ? new Uint16Array(split.files.length) : new Uint8Array(split.files.length);
    await mapLimit(split.files, CONCURRENCY, async ({ file, label }, i) => {
      labels[i] = label;
      try {
        await decodeInto(
          file,
          split.headers[i]!,
          [height, width, channels],
          images.subarray(i * sampleBytes, (i + 1) * sampleBytes),
        );
      } catch (error) {
        if (error instanceof PollardError) throw error;
        throw badInput(file, `cannot be decoded (${sharpMessage(error)})`);
      }
    });
    decoded.push({ images, labels, count: split.files.length });
  }
  return {
    format: 'image-folder',
    source: entry.path,
    shape: [height, width, channels],
    classNames,
    train: decoded[0]!,
    ...(decoded[1] ? { test: decoded[1] } : {}),
    notes,
  };
}

export const imageFolderImporter: DatasetImporter = {
  format: 'image-folder',
  match(entry) {
    return entry.isDirectory && (entry.folders ?? []).some((name) => !isHidden(name));
  },
  open: openImageFolder,
};
