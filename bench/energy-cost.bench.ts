/**
 * What energy measurement adds to a compress job (issue 14's target: at most 10% with
 * `--energy quick`). LeNet is trained once on the bundled Fashion-MNIST sample, then compressed
 * (50% fewer MACs, fine-tuned) with `--energy off` and with `--energy quick` in the same process,
 * alternating which goes first each round; each job's wall time and the time of each stage are
 * shown, and the median ratio quick ÷ off.
 *
 *   npx tsx bench/energy-cost.bench.ts [--epochs N] [--limit N] [--rounds N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compressSpecSchema, trainSpecSchema, type JobEventBody } from '../src/shared/jobs';
import { initBackend } from '../src/main/engine/backend/ladder';
import { runCompress } from '../src/main/engine/compress/compress-job';
import { quantile } from '../src/main/engine/energy/stats';
import { createMemoryContext } from '../src/main/engine/job/context';
import { runTrainJob } from '../src/main/engine/train/train-job';
import { SAMPLE_DATASET } from '../src/main/util/paths';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '2' },
    limit: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '1' },
  },
});
const EPOCHS = Number(values.epochs);
const LIMIT = Number(values.limit);
const ROUNDS = Number(values.rounds);
for (const [name, value] of [
  ['--epochs', EPOCHS],
  ['--limit', LIMIT],
  ['--rounds', ROUNDS],
] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`energy-cost: ${name} must be a positive integer, got ${String(value)}`);
    process.exit(2);
  }
}

const backend = await initBackend('wasm');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'pollard-energy-cost-'));
const common = { backend: 'wasm' as const, seed: 1, batchSize: 64, limit: LIMIT };

/** A context that records when each stage started, for a per-stage breakdown. */
function timedContext(): { ctx: ReturnType<typeof createMemoryContext>; stages: [string, number][] } {
  const ctx = createMemoryContext(backend);
  const stages: [string, number][] = [];
  const emit = ctx.emit;
  ctx.emit = (event: JobEventBody) => {
    if (event.type === 'stage') stages.push([event.stage, performance.now()]);
    emit(event);
  };
  return { ctx, stages };
}

try {
  const { ctx } = timedContext();
  const baseline = await runTrainJob(
    trainSpecSchema.parse({
      kind: 'train',
      data: SAMPLE_DATASET,
      arch: 'lenet',
      out: path.join(scratch, 'baseline'),
      training: { epochs: 1, validationSplit: 0.1 },
      ...common,
    }),
    ctx,
  );

  const compress = async (mode: 'off' | 'quick', round: number): Promise<number> => {
    const { ctx: jobCtx, stages } = timedContext();
    const started = performance.now();
    await runCompress(
      compressSpecSchema.parse({
        kind: 'compress',
        model: baseline.modelPath,
        data: SAMPLE_DATASET,
        out: path.join(scratch, `compressed-${mode}-${round}`),
        method: 'structured',
        targetMacs: 0.5,
        finetuneEpochs: EPOCHS,
        training: { learningRate: 0.001, validationSplit: 0.1 },
        energy: { mode, baselineRun: path.join(scratch, 'baseline') },
        ...common,
      }),
      jobCtx,
    );
    const ended = performance.now();
    const seconds = (ended - started) / 1000;
    const breakdown = stages
      .map(([stage, at], i) => `${stage} ${(((stages[i + 1]?.[1] ?? ended) - at) / 1000).toFixed(1)} s`)
      .join(', ');
    console.log(`round ${round} --energy ${mode}: ${seconds.toFixed(1)} s (${breakdown})`);
    return seconds;
  };

  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: ('off' | 'quick')[] = round % 2 === 1 ? ['off', 'quick'] : ['quick', 'off'];
    const times: Record<'off' | 'quick', number> = { off: 0, quick: 0 };
    for (const mode of order) times[mode] = await compress(mode, round);
    ratios.push(times.quick / times.off);
    console.log(`round ${round}: quick ÷ off = ${(times.quick / times.off).toFixed(3)}`);
  }
  const median = quantile(
    [...ratios].sort((a, b) => a - b),
    0.5,
  );
  console.log(
    `\n--energy quick ÷ --energy off, wall time, median of ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}: ${median.toFixed(3)} (target ≤ 1.10: ${median <= 1.1 ? 'met' : 'NOT met'})`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
