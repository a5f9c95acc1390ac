/**
 * The backends end to end, for a machine with a GPU: what every rung of the ladder says (as
 * `pollard info` does), then, per backend, the same seeded network trained on the bundled
 * sample through the real training loop and evaluated on its test split, with the logits of
 * the untrained network on 256 test images compared against the first backend's. A GPU rung
 * passes when its logits agree with the CPU's to float32 rounding and its accuracy after
 * training is within a point or two (the order of float additions differs between backends,
 * so trained weights drift apart a little).
 *
 *   npx tsx bench/gpu-check.bench.ts [--backends wasm,webgpu] [--arch lenet] [--epochs 2]
 *     [--limit N] [--json]
 *
 * --limit: the first N training and test images only (a software adapter is slow).
 *
 * Each backend runs in a fresh process, one after another. Prints a table; exits 1 where a
 * backend's logits differ by more than 1e-3 from the first backend's.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { ArchitectureName } from '../src/shared/jobs';
import type { BackendName, BackendRung } from '../src/shared/types';
import type { Tensor } from '../src/main/engine/tf';
import { maxAbsDiff } from '../src/main/engine/onnx/verify-export';

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = path.resolve(here, '../resources/samples/fashion-mnist-small');
const BATCH = 64;
const PROBE_IMAGES = 256;
/** Logits of the same untrained network on two backends may differ by float rounding only. */
export const LOGIT_TOLERANCE = 1e-3;

export interface BackendCheck {
  backend: BackendName;
  device: string;
  arch: ArchitectureName;
  epochs: number;
  trainSamplesPerSecond: number;
  inferenceSamplesPerSecond: number;
  testAccuracy: number;
  testCount: number;
  peakRssMiB: number;
  /** Largest |logit difference| from the first backend's, on the untrained network. */
  maxLogitDifference?: number;
}

async function checkOne(
  backend: BackendName,
  arch: ArchitectureName,
  epochs: number,
  logitsFile: string,
  limit: number,
): Promise<BackendCheck> {
  const { initBackend } = await import('../src/main/engine/backend/ladder');
  const { tf } = await import('../src/main/engine/tf');
  const { openDataset, gatherSplit } = await import('../src/main/engine/data');
  const { buildArchitecture } = await import('../src/main/engine/model/architectures');
  const { trainModel } = await import('../src/main/engine/train/loop');
  const { evaluateModel } = await import('../src/main/engine/train/evaluate');
  const { createMemoryContext } = await import('../src/main/engine/job/context');
  const { trainingOptionsSchema } = await import('../src/shared/jobs');

  const report = await initBackend(backend);
  const dataset = await openDataset(SAMPLE);
  const first = (split: typeof dataset.train): typeof dataset.train =>
    split.count <= limit
      ? split
      : gatherSplit(
          split,
          Array.from({ length: limit }, (_, i) => i),
        );
  const train = first(dataset.train);
  const test = first(dataset.test ?? dataset.train);
  const classes = dataset.classNames.length;
  const model = buildArchitecture(arch, dataset.shape, classes, 1);

  // The untrained network's logits: the same weights everywhere, so they must agree.
  const probe = gatherSplit(
    test,
    Array.from({ length: Math.min(PROBE_IMAGES, test.count) }, (_, i) => i),
  );
  const logits = tf.tidy(() => {
    const x = tf.tensor4d(
      Float32Array.from(probe.images, (v) => v / 255),
      [probe.count, ...dataset.shape],
    );
    return model.predict(x) as Tensor;
  });
  writeFileSync(logitsFile, Buffer.from((await logits.data()).buffer));
  logits.dispose();

  const ctx = createMemoryContext(report);
  const training = trainingOptionsSchema.parse({ epochs, validationSplit: 0 });
  const outcome = await trainModel(
    model,
    { train, shape: dataset.shape, classes },
    { training, batchSize: BATCH, seed: 1, epochs },
    ctx,
  );
  const start = performance.now();
  const evaluation = await evaluateModel(model, test, dataset.shape, classes, {
    batchSize: 256,
    classNames: dataset.classNames,
    detailed: false,
  });
  const inferSeconds = (performance.now() - start) / 1000;
  model.dispose();
  return {
    backend,
    device: `${report.used}: ${report.device}`,
    arch,
    epochs,
    trainSamplesPerSecond: outcome.samplesPerSecond,
    inferenceSamplesPerSecond: test.count / inferSeconds,
    testAccuracy: evaluation.accuracy,
    testCount: evaluation.count,
    // maxRSS is in KiB.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

export function checkTable(rungs: BackendRung[], rows: BackendCheck[]): string {
  const lines = ['Ladder:'];
  for (const r of rungs)
    lines.push(`  ${r.name.padEnd(10)} ${r.status.padEnd(11)} ${r.device ?? r.reason ?? ''}`);
  lines.push(
    '',
    '| backend | device | train samples/s | infer samples/s | test accuracy | max logit Δ | peak RSS MiB |',
  );
  lines.push('|---|---|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    lines.push(
      `| ${r.backend} | ${r.device} | ${r.trainSamplesPerSecond.toFixed(0)} | ${r.inferenceSamplesPerSecond.toFixed(0)} | ` +
        `${(100 * r.testAccuracy).toFixed(2)}% of ${r.testCount} | ` +
        `${r.maxLogitDifference === undefined ? 'reference' : r.maxLogitDifference.toExponential(1)} | ${r.peakRssMiB.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

const run = promisify(execFile);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      backends: { type: 'string' },
      arch: { type: 'string', default: 'lenet' },
      epochs: { type: 'string', default: '2' },
      limit: { type: 'string', default: String(Number.MAX_SAFE_INTEGER) },
      logits: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const arch = values.arch as ArchitectureName;
  const epochs = Number(values.epochs);
  if (values.child) {
    const result = await checkOne(
      values.backends as BackendName,
      arch,
      epochs,
      values.logits!,
      Number(values.limit),
    );
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }
  const { probeBackends } = await import('../src/main/engine/backend/ladder');
  const rungs = await probeBackends();
  const backends =
    (values.backends?.split(',') as BackendName[] | undefined) ??
    rungs
      .filter((r) => r.status !== 'unavailable' && r.name !== 'cpu')
      .map((r) => r.name)
      .reverse();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-gpu-check-'));
  const self = fileURLToPath(import.meta.url);
  const rows: BackendCheck[] = [];
  let reference: Float32Array | undefined;
  try {
    for (const backend of backends) {
      const logitsFile = path.join(dir, `${backend}.f32`);
      const args = [...(self.endsWith('.ts') ? ['--import', 'tsx'] : []), self, '--child'];
      args.push('--backends', backend, '--arch', arch, '--epochs', String(epochs), '--logits', logitsFile);
      args.push('--limit', values.limit);
      try {
        const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
        const row = JSON.parse(stdout.trim().split('\n').at(-1)!) as BackendCheck;
        const bytes = readFileSync(logitsFile);
        const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        if (reference) row.maxLogitDifference = maxAbsDiff(reference, logits);
        else reference = logits;
        rows.push(row);
      } catch (error) {
        console.error(`${backend}: failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(values.json ? JSON.stringify({ rungs, rows }, null, 2) : checkTable(rungs, rows));
  if (rows.some((r) => (r.maxLogitDifference ?? 0) > LOGIT_TOLERANCE)) {
    console.error(`gpu-check: logits differ by more than ${LOGIT_TOLERANCE} from ${rows[0]!.backend}'s`);
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
