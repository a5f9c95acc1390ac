/**
 * CIFAR-10 and CIFAR-100 in their binary versions, as a folder, a single `.bin`, or the official
 * `cifar-10-binary.tar.gz` / `cifar-100-binary.tar.gz` read directly (never extracted to disk).
 *
 * CIFAR-10: `data_batch_1..5.bin` (training split, in batch order) and `test_batch.bin`; each
 * record is 1 label byte + 3,072 pixel bytes. CIFAR-100: `train.bin` and `test.bin`; each record
 * is a coarse label byte, a fine label byte and 3,072 pixel bytes; the fine label (100 classes)
 * is used. Pixels are channel-planar (1,024 R, then G, then B, rows of 32) and are converted to
 * NHWC. Class names come from `batches.meta.txt` / `fine_label_names.txt` when present
 * (exactly 10 / 100 names), else the standard names.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetFormat } from '../../../shared/types';
import { badInput } from '../../../shared/errors';
import { CIFAR100_CLASSES, CIFAR10_CLASSES, parseClassNames, readClassNames } from './class-names';
import { DEFAULT_MAX_DATASET_BYTES, MAX_NAMES_FILE_BYTES, formatCount } from './limits';
import { readError } from './sized-read';
import { forEachTarFile } from './tar-entries';
import type { Dataset, DatasetEntry, DatasetImporter, DatasetSplit, OpenOptions } from './types';

export const CIFAR_SIDE = 32;
export const CIFAR_PIXEL_BYTES = CIFAR_SIDE * CIFAR_SIDE * 3;

type CifarFormat = Extract<DatasetFormat, 'cifar-10' | 'cifar-100'>;

interface CifarLayout {
  labelBytes: number;
  recordBytes: number;
  classes: number;
  namesFile: string;
  standardNames: string[];
  recordDescription: string;
}

const LAYOUTS: Record<CifarFormat, CifarLayout> = {
  'cifar-10': {
    labelBytes: 1,
    recordBytes: 1 + CIFAR_PIXEL_BYTES,
    classes: 10,
    namesFile: 'batches.meta.txt',
    standardNames: CIFAR10_CLASSES,
    recordDescription: 'a CIFAR-10 record is 1 label byte + 3,072 pixel bytes',
  },
  'cifar-100': {
    labelBytes: 2,
    recordBytes: 2 + CIFAR_PIXEL_BYTES,
    classes: 100,
    namesFile: 'fine_label_names.txt',
    standardNames: CIFAR100_CLASSES,
    recordDescription: 'a CIFAR-100 record is a coarse and a fine label byte + 3,072 pixel bytes',
  },
};

const CIFAR100_COARSE_CLASSES = 20;
const OFFICIAL_FOLDERS = ['cifar-10-batches-bin', 'cifar-100-binary'];

interface BatchRole {
  format: CifarFormat;
  split: 'train' | 'test';
  /** Position within the split: data_batch_N → N. */
  order: number;
}

/** What a file's name says it is. */
function roleOf(name: string): BatchRole | undefined {
  const batch = /^data_batch_(\d{1,3})\.bin$/.exec(name);
  if (batch) return { format: 'cifar-10', split: 'train', order: Number(batch[1]) };
  if (name === 'test_batch.bin') return { format: 'cifar-10', split: 'test', order: 0 };
  if (name === 'train.bin') return { format: 'cifar-100', split: 'train', order: 0 };
  if (name === 'test.bin') return { format: 'cifar-100', split: 'test', order: 0 };
  return undefined;
}

/** A CIFAR file's size must be a whole number of records (and not zero). */
function recordCount(file: string, size: number, format: CifarFormat): number {
  const layout = LAYOUTS[format];
  if (size === 0) throw badInput(file, 'is empty');
  if (size % layout.recordBytes !== 0) {
    throw badInput(
      file,
      `size ${formatCount(size)} bytes is not a multiple of ${formatCount(layout.recordBytes)} (${layout.recordDescription})`,
    );
  }
  return size / layout.recordBytes;
}

/**
 * Takes a batch file's bytes chunk by chunk: checks every record's label bytes as they pass and
 * keeps the first `keep` records.
 */
class RecordCollector {
  readonly kept: Uint8Array;
  private position = 0;

  constructor(
    private readonly file: string,
    private readonly format: CifarFormat,
    private readonly size: number,
    readonly keep: number,
  ) {
    this.kept = new Uint8Array(keep * LAYOUTS[format].recordBytes);
  }

  push(chunk: Uint8Array): void {
    const { recordBytes, labelBytes } = LAYOUTS[this.format];
    const start = this.position;
    const end = start + chunk.length;
    if (end > this.size)
      throw badInput(this.file, `holds more bytes than its stated size ${formatCount(this.size)}`);
    for (let record = Math.floor(start / recordBytes); record * recordBytes < end; record++) {
      for (let j = 0; j < labelBytes; j++) {
        const offset = record * recordBytes + j;
        if (offset >= start && offset < end) this.checkLabel(record, j, chunk[offset - start]!);
      }
    }
    const keepEnd = this.kept.length;
    if (start < keepEnd) this.kept.set(chunk.subarray(0, Math.min(end, keepEnd) - start), start);
    this.position = end;
  }

  finish(): void {
    if (this.position !== this.size) {
      throw badInput(
        this.file,
        `truncated: ${formatCount(this.position)} of ${formatCount(this.size)} bytes`,
      );
    }
  }

  private checkLabel(record: number, byte: number, value: number): void {
    if (this.format === 'cifar-10') {
      if (value > 9)
        throw badInput(this.file, `record ${record} has label ${value}; CIFAR-10 labels are 0..9`);
    } else if (byte === 0) {
      if (value >= CIFAR100_COARSE_CLASSES) {
        throw badInput(
          this.file,
          `record ${record} has coarse label ${value}; CIFAR-100 coarse labels are 0..19`,
        );
      }
    } else if (value > 99) {
      throw badInput(this.file, `record ${record} has fine label ${value}; CIFAR-100 fine labels are 0..99`);
    }
  }
}

interface CollectedBatch {
  role: BatchRole;
  file: string;
  collector: RecordCollector;
}

/** Planar records → one NHWC split of `count` samples (from the batches in order). */
function toSplit(batches: CollectedBatch[], format: CifarFormat, count: number): DatasetSplit {
  const { recordBytes, labelBytes } = LAYOUTS[format];
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const images = new Uint8Array(count * CIFAR_PIXEL_BYTES);
  const labels = new Uint8Array(count);
  let sample = 0;
  for (const batch of batches) {
    const raw = batch.collector.kept;
    for (let r = 0; r < batch.collector.keep && sample < count; r++, sample++) {
      const record = r * recordBytes;
      labels[sample] = raw[record + labelBytes - 1]!;
      const pixels = record + labelBytes;
      const out = sample * CIFAR_PIXEL_BYTES;
      for (let p = 0; p < plane; p++) {
        images[out + p * 3] = raw[pixels + p]!;
        images[out + p * 3 + 1] = raw[pixels + plane + p]!;
        images[out + p * 3 + 2] = raw[pixels + 2 * plane + p]!;
      }
    }
  }
  return { images, labels, count: sample };
}

function sortBatches(batches: CollectedBatch[], split: 'train' | 'test'): CollectedBatch[] {
  return batches.filter((b) => b.role.split === split).sort((a, b) => a.role.order - b.role.order);
}

function checkBudget(source: string, samples: number, maxBytes: number): void {
  const needed = samples * CIFAR_PIXEL_BYTES;
  if (needed > maxBytes) {
    throw badInput(
      source,
      `the dataset needs ${formatCount(needed)} bytes of pixels, over the limit of ${formatCount(maxBytes)}; use a limit on the number of samples`,
    );
  }
}

function assemble(
  source: string,
  format: CifarFormat,
  batches: CollectedBatch[],
  classNames: string[],
  namesFrom: string | undefined,
  options: OpenOptions,
): Dataset {
  const notes: string[] = [];
  let train = sortBatches(batches, 'train');
  let test = sortBatches(batches, 'test');
  if (train.length === 0) {
    notes.push(`Only ${path.basename(test[0]!.file)} was given; it is used as the training split.`);
    train = test;
    test = [];
  }
  const countOf = (list: CollectedBatch[]): number =>
    Math.min(
      list.reduce((sum, b) => sum + b.collector.keep, 0),
      options.limit ?? Infinity,
    );
  const describe = (list: CollectedBatch[]): string => list.map((b) => path.basename(b.file)).join(', ');
  notes.push(
    `${format === 'cifar-10' ? 'CIFAR-10' : 'CIFAR-100'} binary: training split from ${describe(train)}` +
      (test.length > 0 ? `, test split from ${describe(test)}` : '') +
      '; channel-planar pixels converted to NHWC.',
  );
  if (format === 'cifar-100')
    notes.push('Fine labels (100 classes) are used; coarse labels are checked and dropped.');
  notes.push(
    namesFrom ? `Class names from ${namesFrom}.` : 'Standard class names (no class-name file found).',
  );
  if (options.limit !== undefined) {
    notes.push(`Limited to the first ${formatCount(options.limit)} samples of each split.`);
  }
  const trainSplit = toSplit(train, format, countOf(train));
  const testSplit = test.length > 0 ? toSplit(test, format, countOf(test)) : undefined;
  return {
    format,
    source,
    shape: [CIFAR_SIDE, CIFAR_SIDE, 3],
    classNames,
    train: trainSplit,
    ...(testSplit ? { test: testSplit } : {}),
    notes,
  };
}

function checkNameCount(file: string, names: string[], format: CifarFormat): string[] {
  const expected = LAYOUTS[format].classes;
  if (names.length !== expected) {
    throw badInput(
      file,
      `names ${names.length} classes; ${format === 'cifar-10' ? 'CIFAR-10' : 'CIFAR-100'} has ${expected}`,
    );
  }
  return names;
}

async function readBatchFile(batch: CollectedBatch): Promise<void> {
  try {
    for await (const chunk of createReadStream(batch.file) as AsyncIterable<Buffer>)
      batch.collector.push(chunk);
  } catch (error) {
    throw readError(batch.file, error);
  }
  batch.collector.finish();
}

/** Folder, or a single .bin. */
async function openFiles(
  source: string,
  files: string[],
  options: OpenOptions,
  dir: string,
): Promise<Dataset> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  const roles = files.map((file) => ({ file, role: roleOf(path.basename(file)) }));
  let format: CifarFormat;
  if (roles.some((r) => r.role?.format === 'cifar-10')) format = 'cifar-10';
  else if (roles.some((r) => r.role?.format === 'cifar-100')) format = 'cifar-100';
  else {
    // A single .bin with another name: its size decides, when only one layout fits.
    const file = files[0]!;
    const { size } = await fs.stat(file);
    const fits10 = size > 0 && size % LAYOUTS['cifar-10'].recordBytes === 0;
    const fits100 = size > 0 && size % LAYOUTS['cifar-100'].recordBytes === 0;
    if (fits10 === fits100) {
      throw badInput(
        file,
        fits10
          ? `size ${formatCount(size)} bytes fits both CIFAR-10 and CIFAR-100 records; rename it data_batch_1.bin or train.bin`
          : `size ${formatCount(size)} bytes is not a multiple of 3,073 (CIFAR-10 record) or 3,074 (CIFAR-100 record)`,
      );
    }
    format = fits10 ? 'cifar-10' : 'cifar-100';
    roles[0] = { file, role: { format, split: 'train', order: 0 } };
  }
  const chosen = roles.filter((r): r is { file: string; role: BatchRole } => r.role?.format === format);
  // Sizes and the memory budget are checked for every file before any is read.
  const planned: { file: string; role: BatchRole; records: number }[] = [];
  for (const { file, role } of chosen) {
    const { size } = await fs.stat(file).catch((error: unknown) => {
      throw readError(file, error);
    });
    planned.push({ file, role, records: recordCount(file, size, format) });
  }
  const batches: CollectedBatch[] = [];
  for (const split of ['train', 'test'] as const) {
    let remaining = options.limit ?? Infinity;
    for (const plan of planned
      .filter((p) => p.role.split === split)
      .sort((a, b) => a.role.order - b.role.order)) {
      const keep = Math.min(plan.records, remaining);
      remaining -= keep;
      const collector = new RecordCollector(
        plan.file,
        format,
        plan.records * LAYOUTS[format].recordBytes,
        keep,
      );
      batches.push({ role: plan.role, file: plan.file, collector });
    }
  }
  checkBudget(
    source,
    batches.reduce((sum, b) => sum + b.collector.keep, 0),
    maxBytes,
  );
  for (const batch of batches) await readBatchFile(batch);

  const namesFile = path.join(dir, LAYOUTS[format].namesFile);
  const hasNames = await fs
    .stat(namesFile)
    .then((s) => s.isFile())
    .catch(() => false);
  const classNames = hasNames
    ? checkNameCount(namesFile, await readClassNames(namesFile), format)
    : LAYOUTS[format].standardNames;
  return assemble(
    source,
    format,
    batches,
    classNames,
    hasNames ? LAYOUTS[format].namesFile : undefined,
    options,
  );
}

async function openArchive(file: string, options: OpenOptions): Promise<Dataset> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  let format: CifarFormat | undefined;
  const batches: CollectedBatch[] = [];
  const seen = new Map<string, string>();
  const nameFiles = new Map<string, { entry: string; names: string[] }>();
  const keptPerSplit = { train: 0, test: 0 };
  let keptTotal = 0;
  // Archive headers are small; the cap leaves room for them and any files that are skipped.
  await forEachTarFile(file, maxBytes + (16 << 20), async (entry) => {
    const base = path.posix.basename(entry.name.replace(/\\/g, '/'));
    const label = `${file}:${entry.name}`;
    const role = roleOf(base);
    if (role !== undefined) {
      const earlier = seen.get(base);
      if (earlier !== undefined)
        throw badInput(file, `holds ${base} twice ("${earlier}" and "${entry.name}")`);
      seen.set(base, entry.name);
      format ??= role.format;
      if (role.format !== format) {
        throw badInput(file, `mixes CIFAR-10 and CIFAR-100 batches ("${entry.name}")`);
      }
      const records = recordCount(label, entry.size, format);
      // Entries come in archive order, not batch order: keep up to `limit` from each.
      const keep = Math.min(records, options.limit ?? Infinity);
      keptPerSplit[role.split] += keep;
      keptTotal += keep;
      checkBudget(file, keptTotal, maxBytes);
      const collector = new RecordCollector(label, format, entry.size, keep);
      for await (const chunk of entry.stream) collector.push(chunk);
      collector.finish();
      batches.push({ role, file: label, collector });
    } else if (base === 'batches.meta.txt' || base === 'fine_label_names.txt') {
      if (entry.size > MAX_NAMES_FILE_BYTES) {
        throw badInput(
          label,
          `is ${formatCount(entry.size)} bytes; a class-name file is at most ${formatCount(MAX_NAMES_FILE_BYTES)}`,
        );
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry.stream) chunks.push(chunk);
      nameFiles.set(base, {
        entry: label,
        names: parseClassNames(label, Buffer.concat(chunks).toString('utf8')),
      });
    }
  });
  if (format === undefined) {
    throw badInput(
      file,
      'holds no CIFAR batches (expected data_batch_1.bin ... test_batch.bin, or train.bin and test.bin)',
    );
  }
  const namesEntry = nameFiles.get(LAYOUTS[format].namesFile);
  const classNames = namesEntry
    ? checkNameCount(namesEntry.entry, namesEntry.names, format)
    : LAYOUTS[format].standardNames;
  return assemble(
    file,
    format,
    batches,
    classNames,
    namesEntry ? LAYOUTS[format].namesFile : undefined,
    options,
  );
}

function isArchiveName(name: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(name);
}

function folderHasBatches(names: string[]): boolean {
  if (names.some((name) => roleOf(name)?.format === 'cifar-10')) return true;
  const cifar100 = names.filter((name) => roleOf(name)?.format === 'cifar-100');
  // train.bin alone is too generic a name: ask for its partner or CIFAR-100's name files.
  return (
    cifar100.length === 2 ||
    (cifar100.length === 1 &&
      (names.includes('fine_label_names.txt') || names.includes('coarse_label_names.txt')))
  );
}

async function openCifar(entry: DatasetEntry, options: OpenOptions): Promise<Dataset> {
  if (!entry.isDirectory) {
    if (isArchiveName(entry.path)) return openArchive(entry.path, options);
    return openFiles(entry.path, [entry.path], options, path.dirname(entry.path));
  }
  let dir = entry.path;
  let names = entry.names;
  if (!folderHasBatches(names)) {
    // The folder the official archive unpacks into, one level down.
    const inner = OFFICIAL_FOLDERS.find((name) => names.includes(name))!;
    dir = path.join(entry.path, inner);
    names = await fs.readdir(dir).catch((error: unknown) => {
      throw readError(dir, error);
    });
    if (!folderHasBatches(names)) {
      throw badInput(
        dir,
        'holds no CIFAR batches (expected data_batch_1.bin ... test_batch.bin, or train.bin and test.bin)',
      );
    }
  }
  const files = names.filter((name) => roleOf(name) !== undefined).map((name) => path.join(dir, name));
  return openFiles(entry.path, files, options, dir);
}

export const cifarImporter: DatasetImporter = {
  // The registry reads the real format (cifar-10 or cifar-100) from the opened Dataset.
  format: 'cifar-10',
  match(entry) {
    if (!entry.isDirectory) return /\.bin$/i.test(entry.path) || isArchiveName(entry.path);
    return (
      folderHasBatches(entry.names) ||
      OFFICIAL_FOLDERS.some((name) => (entry.folders ?? entry.names).includes(name))
    );
  },
  open: openCifar,
};
