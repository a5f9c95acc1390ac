/**
 * Pollard's training speed beside PyTorch's (CPU), measured in the same run: for every built-in
 * architecture and thread count, samples per second through Pollard's real training loop
 * (`trainModel`, batch 64, Adam 1e-3) and through the same network rebuilt layer for layer in
 * PyTorch (bench/pytorch_peer.py, run with /usr/bin/python3), and the ratio Pollard/PyTorch.
 * Each measurement runs in a fresh process; the two sides of a pair run back to back (their
 * order alternating) so the noise of this shared machine hits both. PyTorch is a yardstick
 * only: nothing in Pollard imports it, and where `import torch` fails its columns read "—".
 *
 *   npx tsx bench/training-speed.bench.ts [--archs lenet,resnet20] [--threads 1,2]
 *     [--steps N | --seconds S] [--rounds R] [--backend wasm|cpu|webgpu|tensorflow]
 *     [--torch-device cpu|cuda] [--json]
 *
 * --rounds: measure every pair R times (default 1), alternating which side goes first; a row
 * shows each side's median and the median of the R paired ratios, so that a slow spell of this
 * shared machine moves neither much.
 *
 * --backend: Pollard's backend (default: the ladder's choice, as a job makes it). With a GPU
 * backend (webgpu, tensorflow) there are no thread counts, and PyTorch's peer runs on CUDA
 * unless --torch-device says otherwise.
 *
 * --steps: timed steps per measurement; by default as many as fill --seconds (10) after a
 * warm-up, so the bench takes about the same time however fast Pollard becomes. Pollard's rate
 * is the loop's own (TrainOutcome.samplesPerSecond: the steps, not trainModel's per-call setup
 * such as starting replica workers; that setup is printed beside it).
 * Data: lenet and vgg-small train on the bundled Fashion-MNIST sample (28×28×1); resnet20 and
 * mobilenet-small on the same images zero-padded to 32×32 and replicated to 3 channels (as
 * scripts/build-cifar-from-fashion.ts does). PyTorch trains on seeded random data of the same
 * shapes (its speed does not depend on the pixel values).
 */
import { execFile, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ARCHITECTURES, type ArchitectureName } from '../src/shared/jobs';
import type { DatasetSplit } from '../src/main/engine/data/types';
import type { TrainLoopOptions } from '../src/main/engine/train/loop';
import type { BackendName } from '../src/shared/types';
import { backendNameSchema } from '../src/shared/result-parts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SAMPLE = path.resolve(here, '../resources/samples/fashion-mnist-small');
const PEER = path.join(here, 'pytorch_peer.py');
/** Debian's python3 with python3-torch; another python3 may come first on PATH. */
const PYTHON = process.env.POLLARD_BENCH_PYTHON ?? '/usr/bin/python3';
const BATCH = 64;
const CLASSES = 10;
const DEFAULT_SECONDS = 10;

/** The input each architecture is measured on (the shapes PyTorch's peer builds too). */
export const BENCH_SHAPES: Readonly<Record<ArchitectureName, [number, number, number]>> = {
  lenet: [28, 28, 1],
  'vgg-small': [28, 28, 1],
  resnet20: [32, 32, 3],
  'mobilenet-small': [32, 32, 3],
};

export interface PollardMeasurement {
  arch: ArchitectureName;
  threads: number;
  params: number;
  samplesPerSecond: number;
  /** Backend and device, e.g. "wasm: WebAssembly SIMD, 1 thread". */
  device: string;
  peakRssMiB: number;
  steps: number;
  /** Seconds of the timed steps (the loop's own clock, after its per-call setup). */
  seconds: number;
  /** Seconds of the timed trainModel call outside its steps (setup such as starting replica workers). */
  setupSeconds: number;
  /** How the training loop spread the work over threads, where it says. */
  parallelism?: string;
}

export interface TorchMeasurement {
  arch: ArchitectureName;
  threads: number;
  params: number;
  samplesPerSecond: number;
  steps: number;
  seconds: number;
  /** "cpu: N thread(s)" or "cuda: <GPU name>". */
  device?: string;
}

export interface SpeedRow {
  arch: ArchitectureName;
  threads: number;
  pollard: PollardMeasurement;
  /** Absent where PyTorch is not available. */
  torch?: TorchMeasurement;
  /** Pollard / PyTorch samples per second. */
  ratio?: number;
  /**
   * For a thread count above 1: the summed samples/s of that many independent 1-thread Pollard
   * processes run at once — what the machine gives when nothing is shared (the ceiling for a
   * speed-up from threads; on a shared VM it is well below the thread count).
   */
  independentSum?: number;
  /**
   * N × the slowest of those N processes: the ceiling for a synchronous step. Each replica
   * gets an equal slice and the step waits for the last, so where the cores run at different
   * speeds (a shared VM whose vCPUs are busy to different degrees on the host) the slowest sets
   * the pace, and the summed ceiling above is out of reach.
   */
  independentSlowest?: number;
}

export interface BenchOptions {
  archs: ArchitectureName[];
  threads: number[];
  steps?: number;
  seconds: number;
  /** Pairs measured per row (medians are reported). */
  rounds: number;
  json: boolean;
  /** Pollard's backend; by default the ladder's choice (as a job makes it). */
  backend?: BackendName;
  /** Where PyTorch runs: `cuda` beside a GPU backend, else `cpu`. */
  torchDevice: 'cpu' | 'cuda';
}

/** Backends that run on a GPU: threads do not apply, and PyTorch's peer runs on CUDA. */
const GPU_BACKENDS: readonly BackendName[] = ['tensorflow', 'webgpu'];

function positiveInt(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag}: expected a positive integer, got "${text}"`);
  return value;
}

/** Parse the command line (the parent's options; `--child` runs are handled in main). */
export function parseBenchArgs(argv: string[], cores = os.availableParallelism()): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      archs: { type: 'string' },
      threads: { type: 'string' },
      steps: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
      'torch-device': { type: 'string' },
    },
    strict: true,
  });
  const parsed = values.backend === undefined ? undefined : backendNameSchema.safeParse(values.backend);
  if (parsed && !parsed.success)
    throw new Error(
      `--backend: unknown backend "${values.backend}"; choose from ${backendNameSchema.options.join(', ')}`,
    );
  const backend = parsed?.data;
  const gpu = backend !== undefined && GPU_BACKENDS.includes(backend);
  const torchDevice = values['torch-device'] ?? (gpu ? 'cuda' : 'cpu');
  if (torchDevice !== 'cpu' && torchDevice !== 'cuda')
    throw new Error(`--torch-device: expected cpu or cuda, got "${torchDevice}"`);
  if (gpu && values.threads !== undefined)
    throw new Error(`--threads: the ${backend} backend runs on the GPU; thread counts apply to wasm and cpu`);
  const archs =
    values.archs === undefined ? [...ARCHITECTURES] : values.archs.split(',').map((a) => a.trim());
  const unknown = archs.filter((a) => !(ARCHITECTURES as readonly string[]).includes(a));
  if (unknown.length > 0 || archs.length === 0) {
    throw new Error(
      `--archs: unknown architecture ${unknown.join(', ')}; choose from ${ARCHITECTURES.join(', ')}`,
    );
  }
  const threads = gpu
    ? [1]
    : values.threads === undefined
      ? [1, Math.max(1, cores)]
      : values.threads.split(',').map((t) => positiveInt('--threads', t.trim()));
  const seconds = values.seconds === undefined ? DEFAULT_SECONDS : Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600))
    throw new Error(`--seconds: expected 0 < S <= 600, got "${values.seconds}"`);
  return {
    archs: [...new Set(archs)] as ArchitectureName[],
    threads: [...new Set(threads)].sort((a, b) => a - b),
    ...(values.steps === undefined ? {} : { steps: positiveInt('--steps', values.steps) }),
    seconds,
    rounds: values.rounds === undefined ? 1 : positiveInt('--rounds', values.rounds),
    json: values.json,
    ...(backend === undefined ? {} : { backend }),
    torchDevice,
  };
}

/** 28×28×1 images as 32×32×3: a zero border of 2 pixels, the gray value in every channel. */
export function padToRgb(
  split: DatasetSplit,
  from: [number, number, number],
  to: [number, number, number],
): DatasetSplit {
  const [fh, fw, fc] = from;
  const [th, tw, tc] = to;
  if (fc !== 1 || th < fh || tw < fw)
    throw new Error(`padToRgb: cannot pad [${from.join(', ')}] to [${to.join(', ')}]`);
  const top = Math.floor((th - fh) / 2);
  const left = Math.floor((tw - fw) / 2);
  const images = new Uint8Array(split.count * th * tw * tc);
  for (let i = 0; i < split.count; i++) {
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) {
        const value = split.images[(i * fh + y) * fw + x]!;
        const out = ((i * th + y + top) * tw + x + left) * tc;
        images.fill(value, out, out + tc);
      }
    }
  }
  return { images, labels: split.labels, count: split.count };
}

/** How `steps` timed steps are laid out on a split of at most `available` samples. */
export function epochPlan(
  steps: number,
  available: number,
  batch = BATCH,
): { batchesPerEpoch: number; epochs: number } {
  const most = Math.max(1, Math.floor(available / batch));
  const epochs = Math.ceil(steps / most);
  return { batchesPerEpoch: Math.ceil(steps / epochs), epochs };
}

/** One Pollard measurement, in this (child) process. */
async function measurePollard(
  arch: ArchitectureName,
  threads: number,
  fixedSteps: number | undefined,
  seconds: number,
  backend: BackendName | undefined,
): Promise<PollardMeasurement> {
  const { initBackend } = await import('../src/main/engine/backend/ladder');
  const { openDataset, gatherSplit } = await import('../src/main/engine/data');
  const { buildArchitecture } = await import('../src/main/engine/model/architectures');
  const { trainModel } = await import('../src/main/engine/train/loop');
  const { createMemoryContext } = await import('../src/main/engine/job/context');
  const { trainingOptionsSchema } = await import('../src/shared/jobs');
  const { setComputeThreads } = await import('../src/main/engine/backend/threads');

  // As a job process does from its spec, so that the backend's device label gives this count.
  setComputeThreads(threads);
  const report = await initBackend(backend);
  const dataset = await openDataset(SAMPLE);
  const shape = BENCH_SHAPES[arch];
  const source =
    shape.join() === dataset.shape.join() ? dataset.train : padToRgb(dataset.train, dataset.shape, shape);
  const take = (n: number, offset = 0): DatasetSplit =>
    gatherSplit(
      source,
      Array.from({ length: n }, (_, i) => (offset + i) % source.count),
    );
  const ctx = createMemoryContext(report);
  // Adam at 1e-3, constant, no validation, no augmentation: the recipe the peer uses.
  const training = trainingOptionsSchema.parse({ epochs: 1, validationSplit: 0 });
  const model = buildArchitecture(arch, shape, CLASSES, 1);
  let parallelism: string | undefined;
  /**
   * One trainModel call. `loop`: the seconds of its training steps, from the loop's own
   * samples/s (which starts after per-call setup such as starting replica workers); `wall`: the
   * whole call.
   */
  const train = async (
    split: DatasetSplit,
    seed: number,
    epochs = 1,
  ): Promise<{ wall: number; loop: number }> => {
    const options: TrainLoopOptions = { training, batchSize: BATCH, seed, epochs, threads };
    const start = performance.now();
    const outcome = await trainModel(model, { train: split, shape, classes: CLASSES }, options, ctx);
    const wall = (performance.now() - start) / 1000;
    const spread = outcome.parallelism;
    parallelism = `${spread.replicas} replica(s) × ${spread.kernelThreads} kernel thread(s), micro-batch ${spread.microBatch}`;
    return { wall, loop: (epochs * split.count) / outcome.samplesPerSecond };
  };

  // Warm-up (kernel compilation, first-use allocations, optimizer slots), then steady steps to
  // calibrate how many steps fill `seconds`: two, or as many as fill half of it (over several
  // epochs of the sample where needed). The calibration doubles as warm-up for V8, which tiers
  // JavaScript and WebAssembly kernels up to optimised code only once they are hot: LeNet's first
  // 100 steps ran at 0.79–0.88× the rate of the next 100, and on 2 replicas, whose worker thread
  // compiles while both cores train, its rate still rose for 500–700 steps (3,900–4,250
  // samples/s over the first 100, 6,400–7,650 over steps 600–800). A training run of minutes runs at the warm rate.
  await train(take(BATCH), 1);
  let calibrationSteps = 2;
  let perStep = (await train(take(2 * BATCH, BATCH), 2)).loop / 2;
  if (fixedSteps === undefined && calibrationSteps * perStep < seconds / 2) {
    const plan = epochPlan(Math.ceil(seconds / 2 / perStep), source.count);
    calibrationSteps = plan.epochs * plan.batchesPerEpoch;
    const warm = await train(take(plan.batchesPerEpoch * BATCH, 3 * BATCH), 3, plan.epochs);
    perStep = warm.loop / calibrationSteps;
  }
  const measure = async (steps: number, seed: number) => {
    const plan = epochPlan(steps, source.count);
    const split = take(plan.batchesPerEpoch * BATCH, 5 * BATCH);
    return { steps: plan.epochs * plan.batchesPerEpoch, ...(await train(split, seed, plan.epochs)) };
  };
  const stepsFor = (perStepSeconds: number): number =>
    Math.max(2, Math.min(100_000, Math.round(seconds / Math.max(perStepSeconds, 1e-6))));
  let timed = await measure(fixedSteps ?? stepsFor(perStep), 4);
  // A calibration thrown off by the machine's noise: measure once more, sized from this run.
  if (fixedSteps === undefined && timed.loop < seconds / 2)
    timed = await measure(stepsFor(timed.loop / timed.steps), 5);
  const params = model.countParams();
  model.dispose();
  return {
    arch,
    threads,
    params,
    samplesPerSecond: (timed.steps * BATCH) / timed.loop,
    device: `${report.used}: ${report.device}`,
    // maxRSS is in KiB.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    steps: timed.steps,
    seconds: timed.loop,
    setupSeconds: timed.wall - timed.loop,
    ...(parallelism ? { parallelism } : {}),
  };
}

const run = promisify(execFile);

function lastJsonLine<T>(stdout: string): T {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON result in output:\n${stdout}`);
  return JSON.parse(line) as T;
}

async function runPollard(
  arch: ArchitectureName,
  threads: number,
  options: BenchOptions,
): Promise<PollardMeasurement> {
  const self = fileURLToPath(import.meta.url);
  // From the sources through tsx's loader; a bundled copy (a GPU server without node_modules) runs as is.
  const args = [...(self.endsWith('.ts') ? ['--import', 'tsx'] : []), self, '--child', '--archs', arch];
  args.push('--threads', String(threads), ...(options.backend ? ['--backend', options.backend] : []));
  args.push(
    ...(options.steps === undefined
      ? ['--seconds', String(options.seconds)]
      : ['--steps', String(options.steps)]),
  );
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  return lastJsonLine<PollardMeasurement>(stdout);
}

async function runTorch(
  arch: ArchitectureName,
  threads: number,
  options: BenchOptions,
): Promise<TorchMeasurement> {
  const args = [PEER, '--arch', arch, '--threads', String(threads), '--device', options.torchDevice];
  args.push(
    ...(options.steps === undefined
      ? ['--seconds', String(options.seconds)]
      : ['--steps', String(options.steps)]),
  );
  const { stdout } = await run(PYTHON, args, { maxBuffer: 16 * 1024 * 1024 });
  return lastJsonLine<TorchMeasurement>(stdout);
}

/** Undefined where PyTorch can be used; otherwise why not. */
export function torchUnavailableReason(python = PYTHON): string | undefined {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.error) return `${python} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').at(-1) ?? `exit status ${String(probe.status)}`;
    return `${python} cannot import torch (${last})`;
  }
  return undefined;
}

/** The middle element by `key` (the lower of the two middle ones for an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new RangeError('medianBy: no items');
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]!;
}

export async function benchTrainingSpeed(
  options: BenchOptions,
  torchAvailable: boolean,
  progress: (line: string) => void = () => {},
): Promise<SpeedRow[]> {
  const rows: SpeedRow[] = [];
  let pair = 0;
  for (const arch of options.archs) {
    for (const threads of options.threads) {
      const pollards: PollardMeasurement[] = [];
      const torches: TorchMeasurement[] = [];
      const ratios: number[] = [];
      const independents: number[] = [];
      const slowest: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        // Alternate which side goes first, so a slow spell of the machine does not always hit one.
        const torchFirst = torchAvailable && pair % 2 === 1;
        pair += 1;
        let torch: TorchMeasurement | undefined;
        if (torchFirst) torch = await runTorch(arch, threads, options);
        const pollard = await runPollard(arch, threads, options);
        if (torchAvailable && !torchFirst) torch = await runTorch(arch, threads, options);
        pollards.push(pollard);
        if (torch) {
          torches.push(torch);
          ratios.push(pollard.samplesPerSecond / torch.samplesPerSecond);
        }
        progress(
          `${arch}, ${threads} thread${threads === 1 ? '' : 's'}${options.rounds > 1 ? `, round ${round + 1}` : ''}: Pollard ${formatRate(pollard.samplesPerSecond)}` +
            (torch ? `, PyTorch ${formatRate(torch.samplesPerSecond)} samples/s` : ' samples/s'),
        );
        if (threads > 1) {
          const runs = await Promise.all(Array.from({ length: threads }, () => runPollard(arch, 1, options)));
          const rates = runs.map((m) => m.samplesPerSecond);
          const sum = rates.reduce((total, rate) => total + rate, 0);
          independents.push(sum);
          slowest.push(threads * Math.min(...rates));
          progress(
            `${arch}, ${threads} independent 1-thread processes: ${formatRate(sum)} samples/s in all (${rates.map(formatRate).join(', ')})`,
          );
        }
      }
      const row: SpeedRow = { arch, threads, pollard: medianBy(pollards, (m) => m.samplesPerSecond) };
      if (torches.length > 0) {
        row.torch = medianBy(torches, (m) => m.samplesPerSecond);
        row.ratio = medianBy(ratios, (r) => r);
      }
      if (independents.length > 0) row.independentSum = medianBy(independents, (x) => x);
      if (slowest.length > 0) row.independentSlowest = medianBy(slowest, (x) => x);
      rows.push(row);
    }
  }
  return rows;
}

export function formatRate(samplesPerSecond: number): string {
  return samplesPerSecond >= 100
    ? Math.round(samplesPerSecond).toLocaleString('en-US')
    : samplesPerSecond.toFixed(1);
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio >= 1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×`;
}

const DASH = '—';

/** A parameter-count mismatch between Pollard's model and the PyTorch rebuild, or undefined. */
export function paramMismatch(
  rows: SpeedRow[],
  arch: ArchitectureName,
): { pollard: number; torch: number } | undefined {
  for (const row of rows) {
    if (row.arch === arch && row.torch && row.torch.params !== row.pollard.params) {
      return { pollard: row.pollard.params, torch: row.torch.params };
    }
  }
  return undefined;
}

function speedUp(rows: SpeedRow[], side: 'pollard' | 'torch', low: number, high: number): string {
  const a = rows.find((r) => r.threads === low)?.[side]?.samplesPerSecond;
  const b = rows.find((r) => r.threads === high)?.[side]?.samplesPerSecond;
  return a && b ? formatRatio(b / a) : DASH;
}

/**
 * The markdown table: per architecture, Pollard and PyTorch samples/s and their ratio at every
 * thread count, then the highest/lowest thread count speed-up of each.
 */
export function speedTable(rows: SpeedRow[]): string {
  const threads = [...new Set(rows.map((r) => r.threads))].sort((a, b) => a - b);
  const archs = [...new Set(rows.map((r) => r.arch))];
  const low = threads[0]!;
  const high = threads.at(-1)!;
  const gpu = rows.length > 0 && rows.every((r) => /^(webgpu|tensorflow):/.test(r.pollard.device));
  const label = (t: number): string => (gpu ? 'GPU' : `${t} thread${t === 1 ? '' : 's'}`);
  const header = ['arch', 'params'];
  for (const t of threads) header.push(`Pollard ${label(t)}`, `PyTorch ${label(t)}`, 'ratio');
  if (high !== low) {
    header.push(`Pollard ${high}/${low} speed-up`, `PyTorch ${high}/${low} speed-up`);
    header.push(`${high} independent processes / 1`, `${high} × slowest / 1`);
  }
  const body = archs.map((arch) => {
    const mine = rows.filter((r) => r.arch === arch);
    const mismatch = paramMismatch(rows, arch);
    const params = mine[0]!.pollard.params.toLocaleString('en-US');
    const cells = [
      arch,
      mismatch ? `**MISMATCH** ${params} ≠ ${mismatch.torch.toLocaleString('en-US')} (PyTorch)` : params,
    ];
    for (const t of threads) {
      const row = mine.find((r) => r.threads === t);
      cells.push(
        row ? formatRate(row.pollard.samplesPerSecond) : DASH,
        row?.torch ? formatRate(row.torch.samplesPerSecond) : DASH,
        row?.ratio === undefined ? DASH : formatRatio(row.ratio),
      );
    }
    if (high !== low) {
      cells.push(speedUp(mine, 'pollard', low, high), speedUp(mine, 'torch', low, high));
      const single = mine.find((r) => r.threads === low)?.pollard.samplesPerSecond;
      const top = mine.find((r) => r.threads === high);
      const ceiling = (value: number | undefined): string =>
        single && value ? formatRatio(value / single) : DASH;
      cells.push(ceiling(top?.independentSum), ceiling(top?.independentSlowest));
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** Lines under the table: device and peak RSS of every Pollard measurement, and mismatches. */
export function speedNotes(rows: SpeedRow[], torchReason: string | undefined): string[] {
  const notes = [
    'Training samples/s at batch 64 (Adam 1e-3); ratio = Pollard / PyTorch, higher is better for Pollard.',
    "With --rounds R > 1: each side's median of R measurements, and the median of the R paired ratios (which need not equal the ratio of the medians).",
    "The last two columns are the machine's own ceilings for a speed-up from threads, from N independent 1-thread Pollard processes run at once: their summed samples/s against one alone, and N × the slowest of them against one alone (a synchronous step waits for its slowest replica, so where the cores run at different speeds this is the most it can reach).",
  ];
  if (torchReason) notes.push(`PyTorch columns are "${DASH}": ${torchReason}.`);
  for (const arch of new Set(rows.map((r) => r.arch))) {
    const mismatch = paramMismatch(rows, arch);
    if (mismatch) {
      notes.push(
        `!!! PARAMETER MISMATCH for ${arch}: Pollard ${mismatch.pollard}, PyTorch ${mismatch.torch}: bench/pytorch_peer.py no longer mirrors the architecture, its ratios are not comparable.`,
      );
    }
  }
  for (const r of rows) {
    notes.push(
      `${r.arch}, ${r.threads} thread${r.threads === 1 ? '' : 's'}: Pollard on ${r.pollard.device}${r.pollard.parallelism ? ` (${r.pollard.parallelism})` : ''}, peak RSS ${r.pollard.peakRssMiB.toFixed(0)} MiB, ` +
        `${r.pollard.steps} steps in ${r.pollard.seconds.toFixed(1)} s (+${r.pollard.setupSeconds.toFixed(1)} s trainModel setup)` +
        (r.torch
          ? `; PyTorch${r.torch.device ? ` on ${r.torch.device}` : ''} ${r.torch.steps} steps in ${r.torch.seconds.toFixed(1)} s`
          : ''),
    );
  }
  return notes;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--child')) {
    const { values } = parseArgs({
      args: argv,
      options: {
        child: { type: 'boolean' },
        archs: { type: 'string' },
        threads: { type: 'string' },
        steps: { type: 'string' },
        seconds: { type: 'string' },
        backend: { type: 'string' },
      },
    });
    const result = await measurePollard(
      values.archs as ArchitectureName,
      Number(values.threads ?? 1),
      values.steps === undefined ? undefined : Number(values.steps),
      Number(values.seconds ?? DEFAULT_SECONDS),
      values.backend as BackendName | undefined,
    );
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    console.error(`training-speed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const torchReason = torchUnavailableReason();
  const rows = await benchTrainingSpeed(options, torchReason === undefined, (line) => {
    if (!options.json) console.error(line);
  });
  if (options.json) console.log(JSON.stringify(rows, null, 2));
  else console.log([speedTable(rows), '', ...speedNotes(rows, torchReason)].join('\n'));
  if (options.archs.some((arch) => paramMismatch(rows, arch))) {
    console.error('training-speed: parameter counts differ between Pollard and the PyTorch peer');
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
