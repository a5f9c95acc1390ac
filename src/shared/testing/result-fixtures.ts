/**
 * Job results for tests, typed as the engine's (`ResultOf<K>`): a key renamed in
 * src/shared/job-results.ts fails the typecheck of every test that builds one. The figures are the
 * demo's (LeNet-style baseline on the bundled Fashion-MNIST sample, structured 50% MACs + uint8).
 */
import type { EnergyFigure, EnergyStatistic, EvaluationResult } from '../types';
import type {
  CompressResult,
  DatasetResult,
  EvaluateResult,
  ExportModelResult,
  InfoResult,
  PlanResult,
  ReportResult,
  SensitivityResult,
  TrainResult,
} from '../job-results';

const figure = (joules: number | null, label: EnergyFigure['label'], source: string): EnergyFigure => ({
  joules,
  label,
  source,
});

export function statistic(values: number[], source = 'CPU model'): EnergyStatistic {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted[Math.floor(sorted.length / 2)] ?? null;
  return {
    label: 'modelled:tdp-load',
    source,
    values,
    median: mid,
    min: sorted[0] ?? null,
    max: sorted.at(-1) ?? null,
    q1: sorted[0] ?? null,
    q3: sorted.at(-1) ?? null,
  };
}

export function evaluationFixture(accuracy = 0.866): EvaluationResult {
  return {
    count: 2000,
    loss: 0.38,
    accuracy,
    classNames: ['T-shirt', 'Trouser'],
    perClassAccuracy: [0.8, 0.9],
    confusion: [
      [800, 200],
      [100, 900],
    ],
  };
}

export function compressResultFixture(overrides: Partial<CompressResult> = {}): CompressResult {
  const latency = (ms1: number, ms32: number) => ({
    batch1: ms1,
    batch32: ms32,
    spread: {
      batch1: [ms1 * 0.9, ms1 * 1.1] as [number, number],
      batch32: [ms32 * 0.9, ms32 * 1.1] as [number, number],
    },
    runs: { batch1: 21, batch32: 15 },
  });
  return {
    kind: 'compress',
    method: 'structured+quantize',
    backend: 'wasm',
    device: 'SIMD, 2 threads',
    runDir: '/runs/compress-1',
    accuracy: 0.8645,
    params: 24_507,
    macs: 201_655,
    sizeBytes: 29_286,
    sizeGzipBytes: 22_938,
    modelPath: '/runs/compress-1/model',
    evaluation: { split: 'test', samples: 2000 },
    before: {
      accuracy: 0.866,
      params: 61_706,
      macs: 416_520,
      sizeBytes: 250_470,
      sizeGzipBytes: 229_581,
      latencyMs: { batch1: 0.14, batch32: 1.28 },
      weightDtype: 'float32',
    },
    after: {
      accuracy: 0.8645,
      params: 24_507,
      macs: 201_655,
      sizeBytes: 29_286,
      sizeGzipBytes: 22_938,
      latencyMs: { batch1: 0.13, batch32: 1.09 },
      weightDtype: 'uint8',
    },
    accuracyDropPoints: 0.15,
    layers: [
      {
        name: 'conv1',
        className: 'Conv2D',
        outChannelsBefore: 32,
        outChannelsAfter: 16,
        paramsBefore: 320,
        paramsAfter: 160,
        macsBefore: 225_792,
        macsAfter: 112_896,
        dtype: 'uint8',
      },
    ],
    realised: ['structured pruning: the model is genuinely smaller'],
    notes: ['accuracy measured on the model read back from the export'],
    latency: { before: latency(0.14, 1.28), after: latency(0.13, 1.09) },
    energy: {
      before: figure(0.0021, 'modelled:op-count', 'Horowitz 45 nm'),
      after: figure(0.0004, 'modelled:op-count', 'Horowitz 45 nm'),
      assumptions: ['int8 arithmetic for uint8 weights'],
    },
    fineTune: [],
    quantization: { dtype: 'uint8' },
    ...overrides,
  };
}

/** A compress result with the measured energy block (training per epoch, inference per 1,000 samples). */
export function measuredEnergyFixture(): NonNullable<CompressResult['energy']['measured']> {
  const side = (joules: number[]) => ({
    epochs: joules.map((j) => figure(j, 'modelled:tdp-load', 'CPU model')),
    perEpoch: statistic(joules),
    detail: 'fine-tuning epochs',
  });
  const inference = (gross: number[]) => ({
    total: { id: 'total', gross: statistic(gross), net: statistic(gross.map((g) => g / 2)) },
    sources: [],
    seconds: { median: 1 },
  });
  return {
    version: 1,
    options: {},
    backend: 'wasm',
    training: {
      original: { ...side([120, 122, 121]), method: 'mini-epochs' },
      compressed: side([60, 61, 62]),
      comparison: {},
    },
    inference: {
      status: 'measured',
      batchSize: 32,
      result: {
        samplesPerRun: 1000,
        warmupRuns: 1,
        repetitions: 5,
        idle: {},
        order: ['original', 'compressed'],
        original: inference([4, 4.2, 4.1]),
        compressed: inference([2, 2.1, 2.2]),
        savings: [],
        meterSources: [],
      },
    },
    sources: [],
    machine: {},
    carbon: {},
    notes: [],
  };
}

export function sensitivityResultFixture(overrides: Partial<SensitivityResult> = {}): SensitivityResult {
  return {
    kind: 'sensitivity',
    backend: 'cpu',
    runDir: '/runs/sensitivity-1',
    samples: 200,
    files: { json: '/runs/sensitivity-1/sensitivity.json', csv: '/runs/sensitivity-1/sensitivity.csv' },
    criterion: 'l1',
    ratios: [0.25, 0.5],
    baselineAccuracy: 0.9,
    macs: 416_520,
    params: 61_706,
    groups: [
      {
        id: 'g0',
        producers: ['conv1'],
        channels: 32,
        channelsAfter: [24, 16],
        accuracy: [0.88, 0.7],
        macsRemoved: [0.1, 0.2],
        paramsRemoved: [0.01, 0.02],
      },
      {
        id: 'g1',
        producers: ['conv2', 'conv3'],
        channels: 64,
        channelsAfter: [48, 32],
        accuracy: [0.89, 0.85],
        macsRemoved: [0.15, 0.3],
        paramsRemoved: [0.1, 0.2],
      },
    ],
    notes: [],
    ...overrides,
  };
}

export function planResultFixture(overrides: Partial<PlanResult> = {}): PlanResult {
  const point = (target: number, macsAfter: number, paramsAfter: number) => ({
    target,
    ratio: target,
    paramsBefore: 61_706,
    paramsAfter,
    macsBefore: 416_520,
    macsAfter,
    groups: [{ id: 'g0', channelsBefore: 32, channelsAfter: Math.round(32 * (1 - target)) }],
    layers: [],
  });
  return {
    kind: 'plan',
    by: 'macs',
    criterion: 'l1',
    points: [point(0, 416_520, 61_706), point(0.25, 312_390, 45_100), point(0.5, 208_260, 30_200)],
    notes: [],
    unsupported: [],
    ...overrides,
  };
}

export function trainResultFixture(overrides: Partial<TrainResult> = {}): TrainResult {
  return {
    kind: 'train',
    backend: 'wasm',
    device: 'SIMD, 2 threads',
    runDir: '/runs/train-1',
    modelPath: '/runs/train-1/model',
    arch: 'lenet',
    accuracy: 0.866,
    loss: 0.38,
    evaluatedOn: 'test',
    params: 61_706,
    macs: 416_520,
    sizeBytes: 250_470,
    sizeGzipBytes: 229_581,
    samplesPerSecond: 4200,
    parallelism: { threads: 2, replicas: 2, sliceSize: 32, microBatch: 32, kernelThreads: 1 },
    epochs: 3,
    stoppedEarly: false,
    history: [],
    evaluation: evaluationFixture(),
    trainingEnergy: figure(300, 'modelled:tdp-load', 'CPU model'),
    datasetSha256: 'a'.repeat(64),
    modelSha256: 'b'.repeat(64),
    peakRssMiB: 512,
    wallSeconds: 30,
    cpuSeconds: 55,
    ...overrides,
  };
}

export function infoResultFixture(overrides: Partial<InfoResult> = {}): InfoResult {
  return {
    kind: 'info',
    backend: 'cpu',
    device: 'pure JavaScript',
    pollardVersion: '0.1.0',
    versions: { node: '20' },
    backends: [{ name: 'cpu', status: 'used' }],
    energySources: [],
    system: {
      os: 'Linux 6.1 (linux-x64)',
      cpu: 'Test CPU',
      cores: 2,
      threads: 2,
      nativeKernels: 'unavailable: test',
      memoryGiB: 8,
      samplePath: '/samples/fashion-mnist-small',
    },
    ...overrides,
  };
}

export function datasetResultFixture(overrides: Partial<DatasetResult> = {}): DatasetResult {
  return {
    kind: 'dataset',
    backend: 'cpu',
    info: {
      format: 'idx',
      source: '/data/fm',
      shape: [28, 28, 1],
      classNames: ['T-shirt', 'Trouser'],
      train: { count: 120, perClass: [60, 60] },
      notes: [],
    },
    previews: [{ label: 1, width: 28, height: 28, channels: 1, pngBase64: 'iVBORw0KGgo=' }],
    ...overrides,
  };
}

export function exportModelResultFixture(
  files: ExportModelResult['files'],
  format: ExportModelResult['format'],
): ExportModelResult {
  return { kind: 'export-model', backend: 'cpu', format, files };
}

export function reportResultFixture(runDir: string, files: ReportResult['files']): ReportResult {
  return {
    kind: 'report',
    runDir,
    report: Object.values(files)[0] ?? '',
    files,
    schemaVersion: 1,
    title: 'Energy-savings report',
    summary: null,
    energy: {
      headline: {
        title: 'Headline: inference energy per 1,000 samples on the machine this run ran on',
        text: 'original 1.60 J, compressed 400 mJ: 4.00× less energy for the compressed model',
      },
      rows: [['Inference, idle-subtracted', '1.60 J', '400 mJ', '4.00× less']],
    },
  };
}

export function evaluateResultFixture(accuracy: number): EvaluateResult {
  return {
    ...evaluationFixture(accuracy),
    kind: 'evaluate',
    backend: 'cpu',
    device: 'pure JavaScript',
    runDir: null,
    model: '/models/m',
    data: '/data/fashion',
    split: 'test',
    params: 61_706,
    macs: 416_520,
    sizeBytes: 250_470,
    sizeGzipBytes: 229_581,
  };
}
