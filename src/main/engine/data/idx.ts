/**
 * IDX datasets in the MNIST layout (MNIST, Fashion-MNIST, KMNIST, EMNIST):
 * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`, each raw or gzip, given as their folder or as one of the files (its
 * partner is looked up beside it). Header: big-endian magic 0x00000803 (images) / 0x00000801
 * (labels), then the count, then rows and columns for images. Only type code 0x08 (unsigned
 * byte) is supported.
 *
 * Class names: `classes.txt` or `labels.txt` beside the files (one name per line, label order)
 * wins; otherwise Fashion-MNIST's names when the folder or its parent is named like
 * Fashion-MNIST ("fashion" in the name, e.g. `fashion-mnist-small`, torchvision's
 * `FashionMNIST/raw`) or when the files have Fashion-MNIST's gzip names and sizes (dropped files
 * land in an upload folder of any name), KMNIST's when named like KMNIST, else "0", "1", ... (MNIST's digits,
 * and EMNIST's label numbers).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, unsupported } from '../../../shared/errors';
import {
  FASHION_MNIST_CLASSES,
  isFashionMnistFiles,
  KMNIST_CLASSES,
  numberedClasses,
  readClassNames,
} from './class-names';
import { DEFAULT_MAX_DATASET_BYTES, formatCount } from './limits';
import { readPrefix, readSized } from './sized-read';
import type { Dataset, DatasetEntry, DatasetImporter, DatasetSplit, OpenOptions } from './types';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;
const UNSIGNED_BYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: '16-bit integer',
  0x0c: '32-bit integer',
  0x0d: '32-bit float',
  0x0e: '64-bit float',
};

/** `<stem>-images-idx3-ubyte[.gz]`, where the stem ends in train, t10k or test (EMNIST adds a prefix). */
const IDX_NAME =
  /^(?<stem>(?:.*-)?(?<split>train|t10k|test))-(?<kind>images|labels)[.-]idx(?<dims>[13])-ubyte(?<gz>\.gz)?$/i;

interface IdxName {
  stem: string;
  split: 'train' | 'test';
  kind: 'images' | 'labels';
  gzip: boolean;
}

function parseIdxName(name: string): IdxName | undefined {
  const groups = IDX_NAME.exec(name)?.groups;
  if (groups === undefined) return undefined;
  const kind = groups.kind!.toLowerCase() as 'images' | 'labels';
  // The dimension count is part of the name: images are idx3, labels idx1.
  if ((kind === 'images') !== (groups.dims === '3')) return undefined;
  return {
    stem: groups.stem!,
    split: groups.split!.toLowerCase() === 'train' ? 'train' : 'test',
    kind,
    gzip: groups.gz !== undefined,
  };
}

interface IdxPair {
  split: 'train' | 'test';
  images: string;
  labels: string;
}

interface IdxHeader {
  count: number;
  rows: number;
  cols: number;
  headerLength: number;
}

function hex(value: number): string {
  return '0x' + value.toString(16).toUpperCase().padStart(8, '0');
}

/** Validate the magic number and type code, then read count (and rows, cols). */
function parseHeader(file: string, kind: 'images' | 'labels', bytes: Buffer): IdxHeader {
  const dims = kind === 'images' ? 3 : 1;
  const headerLength = 4 + 4 * dims;
  const expectedMagic = kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  const what = kind === 'images' ? 'an IDX image file' : 'an IDX label file';
  if (bytes.length < 4) {
    throw badInput(
      file,
      `truncated: ${bytes.length} bytes, shorter than the ${headerLength}-byte IDX header`,
    );
  }
  const magic = bytes.readUInt32BE(0);
  const typeCode = bytes[2]!;
  if (magic !== expectedMagic) {
    // Right layout (two zero bytes, then the dimension count) but another element type.
    if (bytes[0] === 0 && bytes[1] === 0 && bytes[3] === dims && typeCode !== UNSIGNED_BYTE) {
      const typeName = TYPE_NAMES[typeCode];
      throw unsupported(
        file,
        `IDX type code 0x${typeCode.toString(16).toUpperCase().padStart(2, '0')}${typeName ? ` (${typeName})` : ''} is not supported; only 0x08 (unsigned byte) is`,
      );
    }
    throw badInput(
      file,
      `bad magic number ${hex(magic)}: ${what} starts with ${hex(expectedMagic)} (${expectedMagic})`,
    );
  }
  if (bytes.length < headerLength) {
    throw badInput(
      file,
      `truncated: ${bytes.length} bytes, shorter than the ${headerLength}-byte IDX header`,
    );
  }
  const count = bytes.readUInt32BE(4);
  const rows = kind === 'images' ? bytes.readUInt32BE(8) : 1;
  const cols = kind === 'images' ? bytes.readUInt32BE(12) : 1;
  if (count === 0) throw badInput(file, `the header declares 0 ${kind}`);
  if (rows === 0 || cols === 0) throw badInput(file, `the header declares images of ${rows}×${cols} pixels`);
  return { count, rows, cols, headerLength };
}

async function findPartner(file: string, name: IdxName): Promise<string> {
  const dir = path.dirname(file);
  const partnerKind = name.kind === 'images' ? 'labels' : 'images';
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const candidates = names.filter((other) => {
    const parsed = parseIdxName(other);
    return parsed?.kind === partnerKind && parsed.stem === name.stem;
  });
  // Raw beside gzip (torchvision keeps both): the raw file is faster to read.
  candidates.sort((a, b) => Number(a.endsWith('.gz')) - Number(b.endsWith('.gz')));
  const partner = candidates[0];
  if (partner === undefined) {
    const expected = `${name.stem}-${partnerKind}-idx${partnerKind === 'images' ? 3 : 1}-ubyte`;
    throw badInput(
      file,
      `no matching ${partnerKind} file beside it (expected ${expected} or ${expected}.gz)`,
    );
  }
  return path.join(dir, partner);
}

/** The train and test pairs in a folder. */
function pairsInFolder(entry: DatasetEntry): IdxPair[] {
  const byStem = new Map<string, { split: 'train' | 'test'; images?: string; labels?: string }>();
  // Raw names first so a raw file wins over its .gz twin.
  const names = [...entry.names].sort((a, b) => Number(a.endsWith('.gz')) - Number(b.endsWith('.gz')));
  for (const name of names) {
    const parsed = parseIdxName(name);
    if (parsed === undefined) continue;
    const key = parsed.stem.toLowerCase();
    const slot = byStem.get(key) ?? { split: parsed.split };
    slot[parsed.kind] ??= path.join(entry.path, name);
    byStem.set(key, slot);
  }
  const pairs: IdxPair[] = [];
  for (const slot of byStem.values()) {
    if (slot.images === undefined) {
      throw badInput(slot.labels!, 'has no matching images file beside it');
    }
    if (slot.labels === undefined) {
      throw badInput(slot.images, 'has no matching labels file beside it');
    }
    pairs.push({ split: slot.split, images: slot.images, labels: slot.labels });
  }
  for (const split of ['train', 'test'] as const) {
    const same = pairs.filter((pair) => pair.split === split);
    if (same.length > 1) {
      throw badInput(
        entry.path,
        `holds more than one IDX ${split} set (${same.map((pair) => path.basename(pair.images)).join(', ')}); open one of the files instead`,
      );
    }
  }
  return pairs;
}

async function classNamesFor(
  dir: string,
  pairs: IdxPair[],
  maxLabel: number,
  notes: string[],
): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const namesFile = ['classes.txt', 'labels.txt'].find((candidate) => names.includes(candidate));
  if (namesFile !== undefined) {
    const file = path.join(dir, namesFile);
    const classNames = await readClassNames(file);
    // Labels beyond the named classes are reported by checkLabels, naming the record.
    notes.push(`Class names from ${namesFile}.`);
    return classNames;
  }
  const folderNames = [path.basename(dir), path.basename(path.dirname(dir))].map((n) => n.toLowerCase());
  if (maxLabel <= 9 && folderNames.some((n) => n.includes('fashion'))) {
    notes.push('Fashion-MNIST class names (the folder is named like Fashion-MNIST).');
    return FASHION_MNIST_CLASSES;
  }
  // Dropped or picked files land in an upload folder of any name: their names and sizes still tell.
  const files = await Promise.all(
    pairs
      .flatMap((pair) => [pair.images, pair.labels])
      .map(async (file) => ({ name: path.basename(file), bytes: (await fs.stat(file)).size })),
  );
  if (maxLabel <= 9 && isFashionMnistFiles(files)) {
    notes.push("Fashion-MNIST class names (the files have Fashion-MNIST's names and sizes).");
    return FASHION_MNIST_CLASSES;
  }
  if (maxLabel <= 9 && folderNames.some((n) => n.includes('kmnist'))) {
    notes.push('KMNIST class names (the folder is named like KMNIST).');
    return KMNIST_CLASSES;
  }
  const count = Math.max(10, maxLabel + 1);
  notes.push(
    `Classes named by label number 0..${count - 1} (no classes.txt beside the files, and the folder is not named like Fashion-MNIST or KMNIST).`,
  );
  return numberedClasses(count);
}

interface PairPlan {
  pair: IdxPair;
  images: IdxHeader;
  labels: IdxHeader;
  keep: number;
}

async function planPair(pair: IdxPair, limit: number | undefined): Promise<PairPlan> {
  const images = parseHeader(pair.images, 'images', await readPrefix(pair.images, 16));
  const labels = parseHeader(pair.labels, 'labels', await readPrefix(pair.labels, 8));
  if (images.count !== labels.count) {
    throw badInput(
      pair.labels,
      `${formatCount(labels.count)} labels, but ${path.basename(pair.images)} has ${formatCount(images.count)} images`,
    );
  }
  return { pair, images, labels, keep: Math.min(images.count, limit ?? images.count) };
}

async function readPair(plan: PairPlan): Promise<DatasetSplit> {
  const { pair, images, labels, keep } = plan;
  const imageBytes = images.rows * images.cols;
  const pixels = await readSized(pair.images, {
    expectedLength: images.headerLength + images.count * imageBytes,
    layout: `16-byte header + ${formatCount(images.count)} images of ${images.rows}×${images.cols} bytes`,
    keepStart: images.headerLength,
    keepLength: keep * imageBytes,
  });
  const labelBytes = await readSized(pair.labels, {
    expectedLength: labels.headerLength + labels.count,
    layout: `8-byte header + ${formatCount(labels.count)} labels of 1 byte`,
    keepStart: labels.headerLength,
    keepLength: keep,
  });
  return { images: pixels, labels: labelBytes, count: keep };
}

function maxLabelOf(labels: Uint8Array | Uint16Array): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max;
}

/** Check labels against a named class list: the first out-of-range label names its record. */
function checkLabels(file: string, labels: Uint8Array | Uint16Array, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) {
      throw badInput(file, `record ${i} has label ${labels[i]}; the classes are 0..${classes - 1}`);
    }
  }
}

async function openIdx(entry: DatasetEntry, options: OpenOptions): Promise<Dataset> {
  const notes: string[] = [];
  let pairs: IdxPair[];
  let dir: string;
  if (entry.isDirectory) {
    dir = entry.path;
    pairs = pairsInFolder(entry);
  } else {
    dir = path.dirname(entry.path);
    const name = parseIdxName(path.basename(entry.path))!;
    const partner = await findPartner(entry.path, name);
    pairs = [
      {
        split: name.split,
        images: name.kind === 'images' ? entry.path : partner,
        labels: name.kind === 'labels' ? entry.path : partner,
      },
    ];
  }
  let trainPair = pairs.find((pair) => pair.split === 'train');
  let testPair = pairs.find((pair) => pair.split === 'test');
  if (trainPair === undefined) {
    if (testPair === undefined) {
      throw badInput(entry.path, 'no IDX images file (e.g. train-images-idx3-ubyte.gz) found');
    }
    notes.push(
      `Only a test set (${path.basename(testPair.images)}) was given; it is used as the training split.`,
    );
    trainPair = testPair;
    testPair = undefined;
  }

  // Every header is validated, and the total size checked, before any pixels are read.
  const trainPlan = await planPair(trainPair, options.limit);
  const testPlan = testPair ? await planPair(testPair, options.limit) : undefined;
  const { rows, cols } = trainPlan.images;
  if (testPlan && (testPlan.images.rows !== rows || testPlan.images.cols !== cols)) {
    throw badInput(
      testPlan.pair.images,
      `images are ${testPlan.images.rows}×${testPlan.images.cols}, but the training images are ${rows}×${cols}`,
    );
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  const needed = (trainPlan.keep + (testPlan?.keep ?? 0)) * rows * cols;
  if (needed > maxBytes) {
    throw badInput(
      trainPlan.pair.images,
      `the dataset needs ${formatCount(needed)} bytes of pixels, over the limit of ${formatCount(maxBytes)}; use a limit on the number of samples`,
    );
  }

  const train = await readPair(trainPlan);
  const test = testPlan ? await readPair(testPlan) : undefined;
  const maxLabel = Math.max(maxLabelOf(train.labels), test ? maxLabelOf(test.labels) : 0);
  const classNames = await classNamesFor(
    dir,
    testPair ? [trainPair, testPair] : [trainPair],
    maxLabel,
    notes,
  );
  checkLabels(trainPlan.pair.labels, train.labels, classNames.length);
  if (test && testPlan) checkLabels(testPlan.pair.labels, test.labels, classNames.length);

  if (options.limit !== undefined) {
    notes.push(`Limited to the first ${formatCount(options.limit)} samples of each split.`);
  }
  return {
    format: 'idx',
    source: entry.path,
    shape: [rows, cols, 1],
    classNames,
    train,
    ...(test ? { test } : {}),
    notes,
  };
}

export const idxImporter: DatasetImporter = {
  format: 'idx',
  match(entry) {
    if (!entry.isDirectory) return parseIdxName(path.basename(entry.path)) !== undefined;
    return entry.names.some((name) => parseIdxName(name)?.kind === 'images');
  },
  open: openIdx,
};
