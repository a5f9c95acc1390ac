/**
 * Run folders for the report tests, written into a temporary folder: a compress run on a
 * machine like CI (no RAPL, no GPU: only the CPU model measures), with a layer whose name is
 * markup, and a train run. The energy figures come from the real protocol driven by fake
 * sources on a fake clock, so their numbers are exact: 10 W while a model runs, 2 W idle.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { jobSpecSchema } from '../../../shared/jobs';
import type { EnergyFigure } from '../../../shared/types';
import { FakeEnergySource } from '../energy/fake-source';
import { measureInferenceEnergy } from '../energy/protocol';
import { summariseFigures } from '../energy/stats';
import { carbonPair, type CompressEnergyMeasurements } from '../energy/compress-energy';
import { compareLikeForLike } from '../energy/training-energy';
import type { StoredCompression, StoredRun, StoredTraining } from './run-folder';

export const MARKUP_LAYER = '<img src=x onerror=alert(1)>';
export const CPU_SOURCE = 'CPU model: Test CPU 8 W TDP, linear load curve';
export const NO_RAPL = 'RAPL: /sys/class/powercap does not exist (not Linux, or no RAPL)';
export const NO_NVML = 'NVML: libnvidia-ml.so.1 not found (no NVIDIA driver)';

/**
 * Inference energy as the protocol measures it: original runs 200 ms, compressed 50 ms, per 1,000
 * samples. `quick`: as `--energy quick` on a machine with only the CPU model (this process's CPU
 * time): no warm-up runs, nothing drawn between runs, idle power known (0 W) and not recorded.
 */
export async function fakeInference(
  busyWatts = 10,
  idleWatts = 2,
  quick = false,
): Promise<CompressEnergyMeasurements['inference']> {
  let now = 1_000_000;
  const busy: [number, number][] = [];
  const run = (ms: number) => async (): Promise<void> => {
    busy.push([now, now + ms]);
    now += ms;
  };
  const watts = (at: number): number =>
    busy.some(([from, to]) => at >= from && at < to) ? busyWatts : idleWatts;
  const clock = (): number => now;
  const result = await measureInferenceEnergy({
    workloads: { original: run(200), compressed: run(50) },
    samplesPerRun: 1000,
    warmupRuns: quick ? 0 : 1,
    repetitions: 3,
    idleSeconds: 2,
    ...(quick ? { recordIdle: 'unless-known' as const } : {}),
    clock,
    sleep: async (ms) => {
      now += ms;
    },
    sources: [
      new FakeEnergySource({ id: 'rapl', covers: ['cpu', 'dram'], clock, watts: 0, unavailable: NO_RAPL }),
      new FakeEnergySource({ id: 'nvml', covers: ['gpu'], clock, watts: 0, unavailable: NO_NVML }),
      new FakeEnergySource({
        id: 'cpu-tdp',
        kind: 'modelled',
        clock,
        watts,
        ...(quick ? { idleWatts: 0 } : {}),
      }),
    ],
  });
  // The fake sources name themselves "fake <id>"; name the CPU model as the real one does.
  const cpu = quick ? `${CPU_SOURCE}, this process only` : CPU_SOURCE;
  const text = JSON.stringify(result).replaceAll('fake cpu-tdp', cpu);
  return { status: 'measured', batchSize: 32, result: JSON.parse(text) as typeof result };
}

function cumulative(perEpoch: number[]): { energy: { watts: number; total: EnergyFigure } }[] {
  let total = 0;
  return perEpoch.map((joules) => {
    total += joules;
    return { energy: { watts: 8, total: { joules: total, label: 'modelled:tdp-load', source: CPU_SOURCE } } };
  });
}

function history(perEpoch: number[], accuracy: number[]): StoredTraining['history'] {
  return cumulative(perEpoch).map((energy, index) => ({
    epoch: index + 1,
    loss: 1 - accuracy[index]!,
    accuracy: accuracy[index]!,
    valLoss: 1.05 - accuracy[index]!,
    valAccuracy: accuracy[index]! - 0.01,
    learningRate: 0.001,
    seconds: 10,
    samplesPerSecond: 900,
    ...energy,
  }));
}

export const ORIGINAL_EPOCH_JOULES = [30, 32, 31];
export const FINETUNE_EPOCH_JOULES = [12, 13];

function layers(): StoredCompression['layers'] {
  return [
    {
      name: 'conv1',
      className: 'Conv2D',
      outChannelsBefore: 6,
      outChannelsAfter: 4,
      paramsBefore: 156,
      paramsAfter: 104,
      macsBefore: 117600,
      macsAfter: 78400,
      dtype: 'uint8',
    },
    {
      name: MARKUP_LAYER,
      className: 'Conv2D',
      outChannelsBefore: 16,
      outChannelsAfter: 10,
      paramsBefore: 2416,
      paramsAfter: 1010,
      macsBefore: 240000,
      macsAfter: 100000,
      dtype: 'uint8',
    },
    {
      name: 'logits',
      className: 'Dense',
      outChannelsBefore: 10,
      outChannelsAfter: 10,
      paramsBefore: 850,
      paramsAfter: 540,
      macsBefore: 840,
      macsAfter: 530,
      dtype: 'uint8',
    },
  ];
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(value, null, 2));
}

async function writeModel(dir: string, name: string): Promise<void> {
  await writeJson(path.join(dir, 'model.json'), {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name, layers: [] } },
    weightsManifest: [{ paths: ['weights.bin'], weights: [] }],
  });
  await fs.writeFile(path.join(dir, 'weights.bin'), Buffer.from([1, 2, 3, 4]));
}

export interface FixtureOptions {
  /** Leave out the measured block (a run made before energy was measured). */
  unmeasured?: boolean;
  /** Architecture recorded by the original's train run. */
  arch?: string;
  /** A machine busy with other work: "idle" power as high as during the runs. */
  saturated?: boolean;
  /** `--energy quick` with only the process-scoped CPU model: idle power known, not recorded. */
  quick?: boolean;
}

/** A train run (the original) and a compress run made from it, in `root`. */
export async function writeCompressFixture(
  root: string,
  options: FixtureOptions = {},
): Promise<{ compressDir: string; trainDir: string; dataDir: string }> {
  const dataDir = path.join(root, 'data');
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(path.join(dataDir, 'train-images-idx3-ubyte'), Buffer.from('pixels'));
  const trainDir = path.join(root, 'train-run');
  await writeModel(path.join(trainDir, 'model'), 'lenet');
  const training: StoredTraining = {
    backend: 'wasm',
    device: 'WebAssembly SIMD, 1 thread',
    arch: options.arch ?? 'lenet',
    accuracy: 0.864,
    evaluatedOn: 'test',
    params: 3422,
    macs: 358440,
    sizeBytes: 250471,
    sizeGzipBytes: 229446,
    epochs: 3,
    history: history(ORIGINAL_EPOCH_JOULES, [0.73, 0.83, 0.85]),
    trainingEnergy: { joules: 93, label: 'modelled:tdp-load', source: CPU_SOURCE },
    datasetSha256: 'd'.repeat(64),
    modelSha256: 'a'.repeat(64),
    dataset: { source: dataDir, format: 'idx', classNames: ['a', 'b', 'c'], train: { count: 1000 } },
    layers: [],
  };
  await writeJson(path.join(trainDir, 'training.json'), training);

  const compressDir = path.join(root, 'compress-run');
  await writeModel(path.join(compressDir, 'model'), 'lenet');
  const original = summariseFigures(
    training.history.map((_, i) => ({
      joules: ORIGINAL_EPOCH_JOULES[i]!,
      label: 'modelled:tdp-load' as const,
      source: CPU_SOURCE,
    })),
  );
  const compressed = summariseFigures(
    FINETUNE_EPOCH_JOULES.map((joules) => ({
      joules,
      label: 'modelled:tdp-load' as const,
      source: CPU_SOURCE,
    })),
  );
  const inference = options.saturated
    ? await fakeInference(8, 8)
    : options.quick
      ? await fakeInference(10, 0, true)
      : await fakeInference();
  const measured: CompressEnergyMeasurements = {
    version: 1,
    options: {
      measure: true,
      mode: options.quick ? 'quick' : 'full',
      repetitions: 3,
      warmupRuns: 1,
      idleSeconds: 2,
      runSeconds: 1,
      trainingBatches: 10,
      trainingRepetitions: 3,
    },
    backend: 'wasm',
    training: {
      original: {
        method: 'baseline-run',
        epochs: ORIGINAL_EPOCH_JOULES.map((joules) => ({
          joules,
          label: 'modelled:tdp-load',
          source: CPU_SOURCE,
        })),
        perEpoch: original,
        warmupExcluded: 1,
        detail: `the original's own training run (${trainDir})`,
      },
      compressed: {
        epochs: FINETUNE_EPOCH_JOULES.map((joules) => ({
          joules,
          label: 'modelled:tdp-load',
          source: CPU_SOURCE,
        })),
        perEpoch: compressed,
        warmupExcluded: 1,
        detail: "the compressed model's fine-tuning: 2 epochs (fine-tune)",
      },
      comparison: compareLikeForLike('training per epoch', original, compressed),
    },
    inference,
    sources: inference.status === 'measured' ? inference.result.meterSources : [],
    carbon: {
      training: carbonPair(
        { joules: 31, label: 'modelled:tdp-load', source: CPU_SOURCE },
        { joules: 12.5, label: 'modelled:tdp-load', source: CPU_SOURCE },
        {},
      ),
      inference: null,
    },
    machine: {
      os: 'Linux 6.1 (linux-x64)',
      cpu: 'Test CPU',
      logicalCpus: 2,
      memoryGiB: 8,
      gpu: `none measured (nvml: ${NO_NVML})`,
    },
    notes: [],
  };
  const compression: StoredCompression = {
    kind: 'compress',
    method: 'structured+quantize',
    backend: 'wasm',
    device: 'WebAssembly SIMD, 1 thread',
    runDir: compressDir,
    accuracy: 0.8545,
    params: 1654,
    macs: 178930,
    sizeBytes: 29315,
    sizeGzipBytes: 23069,
    modelPath: path.join(compressDir, 'model'),
    evaluation: { split: 'test', samples: 2000 },
    before: {
      accuracy: 0.864,
      params: 3422,
      macs: 358440,
      sizeBytes: 250471,
      sizeGzipBytes: 229446,
      latencyMs: { batch1: 0.25, batch32: 6 },
      weightDtype: 'float32',
    },
    after: {
      accuracy: 0.8545,
      params: 1654,
      macs: 178930,
      sizeBytes: 29315,
      sizeGzipBytes: 23069,
      latencyMs: { batch1: 0.2, batch32: 1.5 },
      weightDtype: 'uint8',
    },
    accuracyDropPoints: 0.95,
    layers: layers(),
    realised: ['Structured pruning removed whole channels (fixture).'],
    notes: [],
    latency: {
      before: {
        batch1: 0.25,
        batch32: 6,
        spread: { batch1: [0.2, 0.3], batch32: [5, 7] },
        runs: { batch1: 21, batch32: 7 },
      },
      after: {
        batch1: 0.2,
        batch32: 1.5,
        spread: { batch1: [0.1, 0.3], batch32: [1, 2] },
        runs: { batch1: 21, batch32: 7 },
      },
    },
    energy: {
      before: { joules: 0.5, label: 'modelled:op-count', source: 'op-count: Horowitz 45 nm, 0.9 V (fp32)' },
      after: { joules: 0.02, label: 'modelled:op-count', source: 'op-count: Horowitz 45 nm, 0.9 V (int8)' },
      assumptions: ['int8 multiply + int32 add = 0.3 pJ per MAC'],
      ...(options.unmeasured ? {} : { measured }),
    },
    fineTune: [{ stage: 'fine-tune', epochs: 2, history: history(FINETUNE_EPOCH_JOULES, [0.8, 0.85]) }],
    structured: {
      criterion: 'l1',
      scope: 'layer',
      steps: [
        {
          step: 1,
          ratio: 0.375,
          target: { metric: 'macs', fraction: 0.5 },
          groups: [],
          totals: { paramsBefore: 3422, paramsAfter: 1654, macsBefore: 358440, macsAfter: 178930 },
          accuracyPruned: 0.3,
        },
      ],
      unsupported: [],
    },
    quantization: { dtype: 'uint8' },
  };
  await writeJson(path.join(compressDir, 'compression.json'), compression);
  await writeJson(path.join(compressDir, 'sensitivity.json'), {
    criterion: 'l1',
    ratios: [0.1, 0.5, 0.9],
    baselineAccuracy: 0.864,
    macs: 358440,
    params: 3422,
    groups: [
      {
        id: 'conv1',
        producers: ['conv1'],
        channels: 6,
        channelsAfter: [5, 3, 1],
        accuracy: [0.86, 0.8, 0.4],
        macsRemoved: [0.1, 0.3, 0.5],
        paramsRemoved: [0, 0, 0],
      },
      {
        id: MARKUP_LAYER,
        producers: [MARKUP_LAYER],
        channels: 16,
        channelsAfter: [14, 8, 2],
        accuracy: [0.864, 0.85, 0.6],
        macsRemoved: [0.1, 0.3, 0.5],
        paramsRemoved: [0, 0, 0],
      },
    ],
    notes: [],
  });
  const run: StoredRun = {
    format: 'pollard-run/1',
    id: 'run-1',
    kind: 'compress',
    status: 'completed',
    createdAt: '2026-01-02T03:04:05.000Z',
    updatedAt: '2026-01-02T03:05:00.000Z',
    hostPid: 1,
    resumes: 0,
    seed: 42,
    pollardVersion: '0.1.0',
    command: [
      'pollard',
      'compress',
      '--model',
      trainDir,
      '--data',
      dataDir,
      '--method',
      'structured+quantize',
      '--target-macs',
      '0.5',
      '--out',
      compressDir,
    ],
    spec: jobSpecSchema.parse({
      kind: 'compress',
      model: trainDir,
      data: dataDir,
      out: compressDir,
      method: 'structured+quantize',
      targetMacs: 0.5,
      batchSize: 64,
      seed: 42,
      verbose: false,
    }),
    versions: { node: '20.0.0', 'tfjs-core': '4.22.0' },
    backend: {
      used: 'wasm',
      device: 'WebAssembly SIMD, 1 thread',
      rungs: [
        { name: 'tensorflow', status: 'unavailable', reason: 'not installed' },
        { name: 'wasm', status: 'used', device: 'WebAssembly SIMD, 1 thread' },
      ],
    },
  };
  await writeJson(path.join(compressDir, 'run.json'), run);
  return { compressDir, trainDir, dataDir };
}
