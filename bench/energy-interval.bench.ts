/**
 * Issue 14's target: a 2× MACs cut on VGG-small reports an inference-energy saving whose interval
 * contains the measured latency ratio. VGG-small is trained briefly on the bundled Fashion-MNIST
 * sample (or `--model` is used), then compressed with structured pruning to 50% fewer MACs, no
 * fine-tuning (inference energy does not depend on it), `--rounds` times with the given
 * `--energy` mode. Each round prints the batch-32 latency ratio (compressed ÷ original, medians of
 * the timed calls), the energy ratio per 1,000 samples (medians of the repeated runs) and the
 * ratio interval the report shows, and whether the interval contains the latency ratio.
 *
 *   npx tsx bench/energy-interval.bench.ts [--model DIR] [--rounds N] [--mode quick|full] [--limit N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compressSpecSchema, trainSpecSchema } from '../src/shared/jobs';
import type { EnergyStatistic } from '../src/shared/types';
import { initBackend } from '../src/main/engine/backend/ladder';
import { runCompress } from '../src/main/engine/compress/compress-job';
import { compareEnergy } from '../src/main/engine/energy/protocol';
import { createMemoryContext } from '../src/main/engine/job/context';
import { runTrainJob } from '../src/main/engine/train/train-job';
import { SAMPLE_DATASET } from '../src/main/util/paths';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    mode: { type: 'string', default: 'quick' },
    limit: { type: 'string', default: '1000' },
  },
});
const ROUNDS = Number(values.rounds);
const LIMIT = Number(values.limit);
const MODE = values.mode;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || !Number.isInteger(LIMIT) || LIMIT < 1) {
  console.error('energy-interval: --rounds and --limit must be positive integers');
  process.exit(2);
}
if (MODE !== 'quick' && MODE !== 'full') {
  console.error(`energy-interval: --mode must be quick or full, got ${String(MODE)}`);
  process.exit(2);
}

const backend = await initBackend('wasm');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'pollard-energy-interval-'));
const common = { backend: 'wasm' as const, seed: 42, batchSize: 64, limit: LIMIT };

async function baselineModel(): Promise<string> {
  if (values.model) return values.model;
  const trained = await runTrainJob(
    trainSpecSchema.parse({
      kind: 'train',
      data: SAMPLE_DATASET,
      arch: 'vgg-small',
      out: path.join(scratch, 'baseline'),
      training: { epochs: 1, validationSplit: 0.1 },
      ...common,
    }),
    createMemoryContext(backend),
  );
  return trained.modelPath;
}

const fixed = (value: number | null, digits = 3): string => (value === null ? '—' : value.toFixed(digits));

interface Row {
  round: number;
  latencyRatio: number;
  /** The same protocol runs' wall time, compressed ÷ original (medians). */
  runRatio: number | null;
  energyRatio: number | null;
  interval: [number, number] | null;
  verdict: string;
  contains: boolean;
}

async function round(model: string, index: number): Promise<Row> {
  const result = await runCompress(
    compressSpecSchema.parse({
      kind: 'compress',
      model,
      data: SAMPLE_DATASET,
      out: path.join(scratch, `compressed-${index}`),
      method: 'structured',
      targetMacs: 0.5,
      finetuneEpochs: 0,
      energy: { mode: MODE },
      ...common,
    }),
    createMemoryContext(backend),
  );
  const inference = result.energy.measured?.inference;
  if (inference?.status !== 'measured') {
    throw new Error(`round ${index}: inference energy ${inference?.reason ?? 'not measured'}`);
  }
  const { original, compressed, savings } = inference.result;
  const total = savings.find((saving) => saving.id === 'total')!;
  const gross = compareEnergy('gross', original.total.gross, compressed.total.gross);
  const latencyRatio = result.after.latencyMs.batch32 / result.before.latencyMs.batch32;
  const describe = (name: string, stat: EnergyStatistic): string =>
    `${name} ${fixed(stat.median, 4)} J [${fixed(stat.min, 4)}, ${fixed(stat.max, 4)}]`;
  console.log(
    `round ${index}: MACs ${result.before.macs.toLocaleString('en-US')} → ${result.after.macs.toLocaleString('en-US')}; ` +
      `b32 ${result.before.latencyMs.batch32.toFixed(2)} → ${result.after.latencyMs.batch32.toFixed(2)} ms ` +
      `(${result.latency.before.runs.batch32} and ${result.latency.after.runs.batch32} calls); ` +
      `${describe('original', original.total.net)}, ${describe('compressed', compressed.total.net)}; ` +
      `run seconds original ${fixed(original.seconds.median)} compressed ${fixed(compressed.seconds.median)}; ` +
      `gross ratio ${fixed(gross.ratio)}`,
  );
  const interval = total.interval ?? null;
  return {
    round: index,
    latencyRatio,
    runRatio:
      original.seconds.median && compressed.seconds.median !== null
        ? compressed.seconds.median / original.seconds.median
        : null,
    energyRatio: total.ratio,
    interval,
    verdict: total.verdict ?? 'unavailable',
    contains: interval !== null && interval[0] <= latencyRatio && latencyRatio <= interval[1],
  };
}

try {
  const model = await baselineModel();
  const rows: Row[] = [];
  for (let index = 1; index <= ROUNDS; index++) rows.push(await round(model, index));
  console.log(
    `\n--energy ${MODE}, VGG-small, structured −50% MACs, wasm, batch 32 (ratios: compressed ÷ original)\n`,
  );
  console.log(
    "| round | latency ratio (median call) | runs' wall-time ratio | energy ratio | energy interval | verdict | interval contains latency |",
  );
  console.log(
    '| ----: | --------------------------: | --------------------: | -----------: | --------------- | ------- | ------------------------- |',
  );
  for (const row of rows) {
    const interval = row.interval ? `[${fixed(row.interval[0])}, ${fixed(row.interval[1])}]` : '—';
    console.log(
      `| ${row.round} | ${fixed(row.latencyRatio)} | ${fixed(row.runRatio)} | ${fixed(row.energyRatio)} | ${interval} | ${row.verdict} | ${row.contains ? 'yes' : 'NO'} |`,
    );
  }
  const met = rows.filter((row) => row.contains).length;
  console.log(`\ninterval contains the latency ratio in ${met} of ${rows.length} rounds`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
