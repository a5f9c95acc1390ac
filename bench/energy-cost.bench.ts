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

  type Cost = { wall: number; cpu: number };
  const compress = async (mode: 'off' | 'quick', round: number): Promise<Cost> => {
    const { ctx: jobCtx, stages } = timedContext();
    const started = performance.now();
    const cpuStart = process.cpuUsage();
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
    const cpuUsed = process.cpuUsage(cpuStart);
    const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
    const seconds = (ended - started) / 1000;
    const breakdown = stages
      .map(([stage, at], i) => `${stage} ${(((stages[i + 1]?.[1] ?? ended) - at) / 1000).toFixed(1)} s`)
      .join(', ');
    console.log(
      `round ${round} --energy ${mode}: ${seconds.toFixed(1)} s, CPU ${cpu.toFixed(1)} s (${breakdown})`,
    );
    return { wall: seconds, cpu };
  };

  const rows: { round: number; off: Cost; quick: Cost }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: ('off' | 'quick')[] = round % 2 === 1 ? ['off', 'quick'] : ['quick', 'off'];
    const costs: Partial<Record<'off' | 'quick', Cost>> = {};
    for (const mode of order) costs[mode] = await compress(mode, round);
    const row = { round, off: costs.off!, quick: costs.quick! };
    rows.push(row);
    console.log(`round ${round}: quick ÷ off = ${(row.quick.wall / row.off.wall).toFixed(3)} wall`);
  }
  const median = (values: number[]): number =>
    quantile(
      [...values].sort((a, b) => a - b),
      0.5,
    );
  // CPU time (this process: the job, its wasm and ONNX Runtime threads) is what other work on a
  // shared machine disturbs least; wall time is what the target is about.
  console.log(
    '\n| round | off wall (s) | quick wall (s) | quick ÷ off, wall | off CPU (s) | quick CPU (s) | quick ÷ off, CPU |',
  );
  console.log(
    '| ----: | -----------: | -------------: | ----------------: | ----------: | ------------: | ---------------: |',
  );
  const line = (label: string, off: Cost, quick: Cost, wall: number, cpu: number): void =>
    console.log(
      `| ${label} | ${off.wall.toFixed(2)} | ${quick.wall.toFixed(2)} | ${wall.toFixed(3)} | ${off.cpu.toFixed(2)} | ${quick.cpu.toFixed(2)} | ${cpu.toFixed(3)} |`,
    );
  for (const row of rows) {
    line(String(row.round), row.off, row.quick, row.quick.wall / row.off.wall, row.quick.cpu / row.off.cpu);
  }
  const wallRatio = median(rows.map((row) => row.quick.wall / row.off.wall));
  const cpuRatio = median(rows.map((row) => row.quick.cpu / row.off.cpu));
  const medianCost = (mode: 'off' | 'quick'): Cost => ({
    wall: median(rows.map((row) => row[mode].wall)),
    cpu: median(rows.map((row) => row[mode].cpu)),
  });
  line('median', medianCost('off'), medianCost('quick'), wallRatio, cpuRatio);
  console.log(
    `\n--energy quick ÷ --energy off, median of ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}: wall ${wallRatio.toFixed(3)}, CPU ${cpuRatio.toFixed(3)} (target ≤ 1.10 wall: ${wallRatio <= 1.1 ? 'met' : 'NOT met'})`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
