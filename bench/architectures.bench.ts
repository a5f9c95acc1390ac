/**
 * Every built-in architecture on every backend present: training and inference samples per
 * second (through the real training loop and evaluation), peak RSS, and tf.memory().numTensors
 * before and after. Each (architecture, backend) pair runs in a fresh process, so peak RSS is
 * that pair's alone, and pairs are measured in the same run so they can be compared as ratios.
 *
 *   npx tsx bench/architectures.bench.ts [--archs lenet,vgg-small] [--backends wasm,cpu] [--json]
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ARCHITECTURES, type ArchitectureName, trainingOptionsSchema } from '../src/shared/jobs';
import type { BackendName } from '../src/shared/types';

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = path.resolve(here, '../resources/samples/fashion-mnist-small');
const BATCH = 64;

export interface ArchitectureBenchRow {
  arch: ArchitectureName;
  backend: BackendName;
  params: number;
  macs: number;
  trainSamplesPerSecond: number;
  inferenceSamplesPerSecond: number;
  peakRssMiB: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

/** Samples trained per pair: the cpu backend is ~70× slower, so it gets fewer. */
const TRAIN_SAMPLES: Record<BackendName, number> = { tensorflow: 4096, webgpu: 4096, wasm: 1280, cpu: 128 };
const INFER_SAMPLES: Record<BackendName, number> = { tensorflow: 8192, webgpu: 8192, wasm: 2048, cpu: 256 };

async function measureOne(arch: ArchitectureName, backend: BackendName): Promise<ArchitectureBenchRow> {
  const { initBackend } = await import('../src/main/engine/backend/ladder');
  const { tf } = await import('../src/main/engine/tf');
  const { openDataset, gatherSplit } = await import('../src/main/engine/data');
  const { buildArchitecture } = await import('../src/main/engine/model/architectures');
  const { summarizeModel } = await import('../src/main/engine/model/summary');
  const { trainModel } = await import('../src/main/engine/train/loop');
  const { evaluateModel } = await import('../src/main/engine/train/evaluate');
  const { createMemoryContext } = await import('../src/main/engine/job/context');

  const report = await initBackend(backend);
  const dataset = await openDataset(SAMPLE);
  const take = (n: number) =>
    gatherSplit(
      dataset.train,
      Array.from({ length: n }, (_, i) => i),
    );
  const warmup = take(BATCH * 2);
  const train = take(TRAIN_SAMPLES[backend]);
  const infer = take(INFER_SAMPLES[backend]);
  const classes = dataset.classNames.length;
  const ctx = createMemoryContext(report);
  const training = trainingOptionsSchema.parse({ epochs: 1, validationSplit: 0 });

  const tensorsBefore = tf.memory().numTensors;
  const model = buildArchitecture(arch, dataset.shape, classes, 1);
  const summary = summarizeModel(model);
  // Warm-up: kernel compilation and first-use allocations are not throughput.
  await trainModel(
    model,
    { train: warmup, shape: dataset.shape, classes },
    { training, batchSize: BATCH, seed: 1 },
    ctx,
  );
  const trainStart = performance.now();
  await trainModel(
    model,
    { train, shape: dataset.shape, classes },
    { training, batchSize: BATCH, seed: 2 },
    ctx,
  );
  const trainSeconds = (performance.now() - trainStart) / 1000;
  await evaluateModel(model, warmup, dataset.shape, classes, {
    batchSize: 256,
    classNames: [],
    detailed: false,
  });
  const inferStart = performance.now();
  await evaluateModel(model, infer, dataset.shape, classes, {
    batchSize: 256,
    classNames: [],
    detailed: false,
  });
  const inferSeconds = (performance.now() - inferStart) / 1000;
  model.dispose();
  const tensorsAfter = tf.memory().numTensors;
  return {
    arch,
    backend,
    params: summary.params,
    macs: summary.macs,
    trainSamplesPerSecond: train.count / trainSeconds,
    inferenceSamplesPerSecond: infer.count / inferSeconds,
    // maxRSS is in KiB.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    tensorsBefore,
    tensorsAfter,
  };
}

async function presentBackends(): Promise<BackendName[]> {
  const { probeBackends } = await import('../src/main/engine/backend/ladder');
  const rungs = await probeBackends();
  return rungs.filter((r) => r.status === 'available' || r.status === 'used').map((r) => r.name);
}

const run = promisify(execFile);

export async function benchArchitectures(
  archs: ArchitectureName[],
  backends: BackendName[],
): Promise<ArchitectureBenchRow[]> {
  const rows: ArchitectureBenchRow[] = [];
  for (const arch of archs) {
    for (const backend of backends) {
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--child',
          '--archs',
          arch,
          '--backends',
          backend,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      rows.push(JSON.parse(stdout.trim().split('\n').at(-1)!) as ArchitectureBenchRow);
    }
  }
  return rows;
}

export function architectureTable(rows: ArchitectureBenchRow[]): string {
  const header = [
    'architecture',
    'backend',
    'params',
    'MACs',
    'train samples/s',
    'infer samples/s',
    'peak RSS MiB',
    'tensors before→after',
  ];
  const body = rows.map((r) => [
    r.arch,
    r.backend,
    r.params.toLocaleString('en-US'),
    r.macs.toLocaleString('en-US'),
    r.trainSamplesPerSecond.toFixed(1),
    r.inferenceSamplesPerSecond.toFixed(1),
    r.peakRssMiB.toFixed(0),
    `${r.tensorsBefore}→${r.tensorsAfter}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const ratios: string[] = [];
  for (const arch of new Set(rows.map((r) => r.arch))) {
    const wasm = rows.find((r) => r.arch === arch && r.backend === 'wasm');
    const cpu = rows.find((r) => r.arch === arch && r.backend === 'cpu');
    if (wasm && cpu)
      ratios.push(
        `${arch}: wasm trains ${(wasm.trainSamplesPerSecond / cpu.trainSamplesPerSecond).toFixed(1)}× the cpu backend`,
      );
  }
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), '', ...ratios].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      archs: { type: 'string' },
      backends: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const archs = (values.archs?.split(',') ?? [...ARCHITECTURES]) as ArchitectureName[];
  if (values.child) {
    process.stdout.write(JSON.stringify(await measureOne(archs[0]!, values.backends as BackendName)) + '\n');
    process.exit(0);
  }
  const backends = (values.backends?.split(',') as BackendName[] | undefined) ?? (await presentBackends());
  const rows = await benchArchitectures(archs, backends);
  console.log(values.json ? JSON.stringify(rows, null, 2) : architectureTable(rows));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
