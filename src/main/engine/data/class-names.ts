/**
 * Standard class names, and the class-name files that may sit beside a dataset.
 */
import { promises as fs } from 'node:fs';
import { badInput } from '../../../shared/errors';
import { MAX_NAMES_FILE_BYTES, formatCount } from './limits';

/** Fashion-MNIST (Zalando Research), label order of the official README. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/**
 * Fashion-MNIST's gzip files by name and size: the official download (zalandoresearch/fashion-mnist)
 * and Pollard's bundled sample. MNIST's files have the same names and uncompressed sizes, so only
 * these compressed sizes tell a dropped or picked set of files apart from MNIST.
 */
export const FASHION_MNIST_FILE_SIZES: Readonly<Record<string, readonly number[]>> = {
  'train-images-idx3-ubyte.gz': [26_421_880, 5_346_190],
  'train-labels-idx1-ubyte.gz': [29_515, 74],
  't10k-images-idx3-ubyte.gz': [4_422_102, 886_046],
  't10k-labels-idx1-ubyte.gz': [5_148, 53],
};

/** Whether IDX files (base name, bytes) are Fashion-MNIST's: every one a known Fashion-MNIST file and size, images included. */
export function isFashionMnistFiles(files: readonly { name: string; bytes: number }[]): boolean {
  const images = files.filter((f) => f.name.includes('-images-'));
  return (
    images.length > 0 && files.every((f) => FASHION_MNIST_FILE_SIZES[f.name]?.includes(f.bytes) === true)
  );
}

/** Kuzushiji-MNIST: the romanised readings of its ten hiragana (classmap.csv order). */
export const KMNIST_CLASSES = ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'];

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** CIFAR-100 fine labels, in label order (as in fine_label_names.txt). */
export const CIFAR100_CLASSES = [
  'apple',
  'aquarium_fish',
  'baby',
  'bear',
  'beaver',
  'bed',
  'bee',
  'beetle',
  'bicycle',
  'bottle',
  'bowl',
  'boy',
  'bridge',
  'bus',
  'butterfly',
  'camel',
  'can',
  'castle',
  'caterpillar',
  'cattle',
  'chair',
  'chimpanzee',
  'clock',
  'cloud',
  'cockroach',
  'couch',
  'crab',
  'crocodile',
  'cup',
  'dinosaur',
  'dolphin',
  'elephant',
  'flatfish',
  'forest',
  'fox',
  'girl',
  'hamster',
  'house',
  'kangaroo',
  'keyboard',
  'lamp',
  'lawn_mower',
  'leopard',
  'lion',
  'lizard',
  'lobster',
  'man',
  'maple_tree',
  'motorcycle',
  'mountain',
  'mouse',
  'mushroom',
  'oak_tree',
  'orange',
  'orchid',
  'otter',
  'palm_tree',
  'pear',
  'pickup_truck',
  'pine_tree',
  'plain',
  'plate',
  'poppy',
  'porcupine',
  'possum',
  'rabbit',
  'raccoon',
  'ray',
  'road',
  'rocket',
  'rose',
  'sea',
  'seal',
  'shark',
  'shrew',
  'skunk',
  'skyscraper',
  'snail',
  'snake',
  'spider',
  'squirrel',
  'streetcar',
  'sunflower',
  'sweet_pepper',
  'table',
  'tank',
  'telephone',
  'television',
  'tiger',
  'tractor',
  'train',
  'trout',
  'tulip',
  'turtle',
  'wardrobe',
  'whale',
  'willow_tree',
  'wolf',
  'woman',
  'worm',
];

/** "0", "1", ... for sets whose classes are their digits. */
export function numberedClasses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i));
}

/**
 * Parse a class-name file: one name per line, in label order, surrounding spaces trimmed;
 * trailing empty lines (CIFAR's batches.meta.txt has them) are ignored, an empty line between
 * names, a duplicate name or a name over 200 characters is refused.
 */
export function parseClassNames(file: string, text: string): string[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw badInput(file, 'contains no class names');
  const seen = new Map<string, number>();
  lines.forEach((name, i) => {
    if (name === '') throw badInput(file, `line ${i + 1} is empty; expected one class name per line`);
    if (name.length > 200) throw badInput(file, `line ${i + 1} is longer than 200 characters`);
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw badInput(file, `class name "${name}" appears on lines ${earlier + 1} and ${i + 1}`);
    }
    seen.set(name, i);
  });
  return lines;
}

/** Read and parse a class-name file, refusing one over MAX_NAMES_FILE_BYTES before reading it. */
export async function readClassNames(file: string): Promise<string[]> {
  const { size } = await fs.stat(file);
  if (size > MAX_NAMES_FILE_BYTES) {
    throw badInput(
      file,
      `is ${formatCount(size)} bytes; a class-name file is at most ${formatCount(MAX_NAMES_FILE_BYTES)}`,
    );
  }
  return parseClassNames(file, await fs.readFile(file, 'utf8'));
}
