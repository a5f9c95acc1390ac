/**
 * Run folder → ReportDocument: everything the report shows, as data. Nothing here formats
 * text for a page; every figure keeps its unit and label, and a missing one its reason.
 */
import { collectTrainingSection } from './training-section';
import path from 'node:path';
import { ARCHITECTURES } from '../../../shared/jobs';
import type { GridSettings } from '../energy/carbon';
import { POLLARD_VERSION } from '../../util/version';
import { epochEnergyFigures } from '../energy/training-energy';
import { compressionEnergySection, trainingEnergySection } from './energy-section';
import { literatureFor } from './literature';
import { datasetHash, environmentOf, modelHash, modelName, readModelJson, shellCommand } from './provenance';
import { onnxRuntimeRows, percent, ratioRow } from './comparison-rows';
import type {
  ComparisonRow,
  EnergySection,
  EpochPoint,
  HashRecord,
  LayerReportRow,
  ReportDocument,
  ReportSummary,
  SensitivitySection,
  Setting,
  SummaryFactor,
  TrainingCurve,
} from './report-types';
import { REPORT_SCHEMA_VERSION } from './report-types';
import { readRunFolder, type RunFolder, type StoredCompression, type StoredTraining } from './run-folder';
import type { EpochMetrics } from '../train/loop';

export interface CollectOptions {
  grid?: GridSettings;
  /** The report's timestamp (tests fix it). */
  now?: Date;
}

/** Who made the report, and when (`options.now` pins the time in tests). */
function generatorOf(options: CollectOptions): { name: 'Pollard'; version: string; createdAt: string } {
  return { name: 'Pollard', version: POLLARD_VERSION, createdAt: (options.now ?? new Date()).toISOString() };
}

/** The sensitivity ratio shown per layer: the measured ratio closest to half the channels. */
const SENSITIVITY_RATIO = 0.5;

function factorOf(row: ComparisonRow, basis: string): SummaryFactor {
  return row.change !== null
    ? { factor: row.change, basis, label: row.label }
    : { factor: null, basis, label: 'unavailable', reason: row.reason ?? 'no figure' };
}

function epochPoints(history: readonly EpochMetrics[]): EpochPoint[] {
  const energies = epochEnergyFigures(history);
  return history.map((metrics, index) => {
    const energy = energies[index]!;
    return {
      epoch: metrics.epoch,
      loss: metrics.loss,
      accuracy: metrics.accuracy,
      valLoss: metrics.valLoss ?? null,
      valAccuracy: metrics.valAccuracy ?? null,
      seconds: metrics.seconds,
      energyJoules: energy.joules,
      energyLabel: energy.label,
      ...(energy.reason !== undefined ? { energyReason: energy.reason } : {}),
    };
  });
}

function trainingEnergyOf(result: StoredTraining): Pick<ReportDocument, 'trainingEnergy'> {
  const section = collectTrainingSection(result);
  return section ? { trainingEnergy: section } : {};
}

function architectureOf(folder: RunFolder, name: string | undefined): string | null {
  const arch = folder.training?.result.arch ?? name;
  return arch !== undefined && (ARCHITECTURES as readonly string[]).includes(arch) ? arch : null;
}

function methodText(result: StoredCompression): string {
  const parts: string[] = [];
  const fineTuneEpochs = result.fineTune.reduce((sum, record) => sum + record.epochs, 0);
  const fineTuned =
    fineTuneEpochs > 0
      ? `, fine-tuned ${fineTuneEpochs} epoch${fineTuneEpochs === 1 ? '' : 's'}`
      : ', no fine-tuning';
  if (result.structured) {
    const steps = result.structured.steps;
    const target = steps.at(-1)?.target;
    const auto = result.structured.auto;
    const goal = auto
      ? `automatic per-layer ratios within ${auto.budgetPoints} accuracy points`
      : target
        ? `${(target.fraction * 100).toFixed(0)}% fewer ${target.metric === 'macs' ? 'MACs' : 'parameters'} in ${steps.length} step${steps.length === 1 ? '' : 's'}`
        : 'pruned';
    parts.push(
      `Structured channel pruning (${result.structured.criterion}, per ${result.structured.scope === 'global' ? 'model' : 'layer'}): ${goal}${fineTuned}`,
    );
  }
  if (result.magnitude) {
    parts.push(
      `Magnitude pruning to ${(result.magnitude.sparsity * 100).toFixed(0)}% zero weights (${result.magnitude.scope})${fineTuned}`,
    );
  }
  if (result.method === 'qat' && result.quantization) {
    parts.push(
      `Quantization-aware training (${result.quantization.granularity ?? 'tensor'} ${result.quantization.dtype})${fineTuned}`,
    );
  } else if (result.quantization) {
    parts.push(`${result.quantization.dtype} weight quantization of the export`);
  }
  return parts.join(', then ') || result.method;
}

function settingsOf(folder: RunFolder, compression: StoredCompression | undefined): Setting[] {
  const settings: Setting[] = [];
  const add = (group: string, name: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    settings.push({ group, name, value: typeof value === 'string' ? value : JSON.stringify(value) });
  };
  const spec = folder.run?.spec;
  if (spec) {
    const group = `${folder.kind} command`;
    for (const [key, value] of Object.entries(spec)) {
      if (key === 'kind' || key === 'verbose') continue;
      add(group, key, value);
    }
  }
  if (compression && folder.kind !== 'compress') {
    const group = 'compression (from compression.json)';
    add(group, 'method', compression.method);
    add(group, 'criterion', compression.structured?.criterion);
    add(group, 'scope', compression.structured?.scope ?? compression.magnitude?.scope);
    const target = compression.structured?.steps.at(-1)?.target;
    if (target) add(group, 'target', `${(target.fraction * 100).toFixed(0)}% fewer ${target.metric}`);
    add(group, 'steps', compression.structured?.steps.length);
    add(group, 'sparsity', compression.magnitude?.sparsity);
    add(group, 'dtype', compression.quantization?.dtype);
    add(
      group,
      'fine-tuning epochs',
      compression.fineTune.reduce((sum, record) => sum + record.epochs, 0),
    );
    const learningRate = compression.fineTune[0]?.history[0]?.learningRate;
    add(group, 'fine-tuning learning rate', learningRate);
    add(group, 'energy measurement', compression.energy?.measured?.options);
  }
  if (folder.training && folder.kind !== 'train') {
    const group = 'original model (its train run)';
    const training = folder.training.result;
    add(group, 'run folder', folder.training.dir);
    add(group, 'architecture', training.arch);
    add(group, 'epochs', training.epochs);
    add(group, 'learning rate', training.history[0]?.learningRate);
    add(group, 'dataset', training.dataset?.source);
  }
  if (folder.kind === 'train') {
    const training = folder.training!.result;
    add('training (from training.json)', 'architecture', training.arch);
    add('training (from training.json)', 'epochs completed', training.epochs);
  }
  return settings;
}

function sensitivitySection(folder: RunFolder): SensitivitySection {
  const found = folder.compression?.sensitivity;
  if (!found) {
    return {
      available: false,
      reason:
        'this run has no sensitivity analysis (it is made in automatic mode, --accuracy-budget, or by pollard sensitivity --out <this run folder>)',
    };
  }
  const { result, file } = found;
  return {
    available: true,
    criterion: result.criterion,
    ratios: [...result.ratios],
    baselineAccuracy: result.baselineAccuracy,
    groups: result.groups.map((group) => ({
      id: group.id,
      producers: [...group.producers],
      channels: group.channels,
      accuracy: [...group.accuracy],
    })),
    file,
  };
}

function layerRows(folder: RunFolder, sensitivity: SensitivitySection): ReportDocument['layers'] {
  const ratios = sensitivity.ratios ?? [];
  let ratioIndex = -1;
  for (const [index, ratio] of ratios.entries()) {
    if (
      ratioIndex < 0 ||
      Math.abs(ratio - SENSITIVITY_RATIO) < Math.abs(ratios[ratioIndex]! - SENSITIVITY_RATIO)
    )
      ratioIndex = index;
  }
  const sensitivityRatio = ratioIndex >= 0 ? ratios[ratioIndex]! : null;
  const dropFor = (layer: string): Pick<LayerReportRow, 'sensitivityDropPoints' | 'sensitivityReason'> => {
    if (!sensitivity.available)
      return { sensitivityDropPoints: null, sensitivityReason: 'no sensitivity analysis' };
    const group = sensitivity.groups!.find(
      (candidate) => candidate.producers.includes(layer) || candidate.id === layer,
    );
    if (!group) return { sensitivityDropPoints: null, sensitivityReason: 'not in a prunable channel group' };
    const accuracy = group.accuracy[ratioIndex];
    if (accuracy === undefined)
      return { sensitivityDropPoints: null, sensitivityReason: 'not measured at this ratio' };
    return { sensitivityDropPoints: (sensitivity.baselineAccuracy! - accuracy) * 100 };
  };

  const compression = folder.compression?.result;
  if (compression) {
    return {
      sensitivityRatio,
      ...(sensitivity.available ? {} : { sensitivityReason: sensitivity.reason! }),
      rows: compression.layers.map((layer) => ({
        name: layer.name,
        className: layer.className,
        channelsBefore: layer.outChannelsBefore,
        channelsAfter: layer.outChannelsAfter,
        paramsBefore: layer.paramsBefore,
        paramsAfter: layer.paramsAfter,
        macsBefore: layer.macsBefore,
        macsAfter: layer.macsAfter,
        sparsity: layer.sparsity ?? null,
        dtype: layer.dtype ?? null,
        ...dropFor(layer.name),
      })),
    };
  }
  const layers = folder.training?.result.layers ?? [];
  return {
    sensitivityRatio,
    ...(sensitivity.available ? {} : { sensitivityReason: sensitivity.reason! }),
    rows: layers
      .filter((layer) => layer.params > 0)
      .map((layer) => {
        const shape = Array.isArray(layer.outputShape[0])
          ? (layer.outputShape[0] as (number | null)[])
          : (layer.outputShape as (number | null)[]);
        return {
          name: layer.name,
          className: layer.className,
          channelsBefore: shape[shape.length - 1] ?? 0,
          channelsAfter: null,
          paramsBefore: layer.params,
          paramsAfter: null,
          macsBefore: layer.macs,
          macsAfter: null,
          sparsity: null,
          dtype: null,
          ...dropFor(layer.name),
        };
      }),
  };
}

/** The energy rows of the comparison table, by energy row id. */
const ENERGY_METRICS: Record<string, string> = {
  'inference-net': 'inference energy per 1,000 samples (batch 32, idle-subtracted)',
  'inference-gross': 'inference energy per 1,000 samples (batch 32, including idle power)',
  'op-count': 'inference energy per 1,000 samples (batch 32, modelled op-count)',
  'training-per-epoch': 'training energy per epoch',
  'training-total': 'training energy, whole run',
};

function energyComparisonRows(energy: EnergySection): ComparisonRow[] {
  // One inference row, as the summary chooses it: idle-subtracted unless that is noise.
  const skip = energy.idleSubtraction?.reliable === false ? 'inference-net' : 'inference-gross';
  return energy.rows
    .filter((row) => Object.hasOwn(ENERGY_METRICS, row.id) && row.id !== skip)
    .map((row) => {
      const comparison: ComparisonRow = {
        id: `energy:${row.id}`,
        metric: ENERGY_METRICS[row.id]!,
        unit: 'J',
        label: row.label,
        before: row.before.median,
        after: row.after?.median ?? null,
        change: row.factor,
        changeUnit: 'x',
        source: row.source,
      };
      if (row.verdict !== undefined) comparison.verdict = row.verdict;
      if (row.reason !== undefined) comparison.reason = row.reason;
      return comparison;
    });
}

/** Quantized (any weight dtype but float32, or a quantizing method) or sparse (magnitude) weights. */
function hasQuantizedOrSparseWeights(result: { method: string; after: { weightDtype?: string } }): boolean {
  if (['quantize', 'qat', 'structured+quantize', 'magnitude'].includes(result.method)) return true;
  const dtype = result.after.weightDtype;
  return dtype !== undefined && dtype !== 'float32';
}

async function compressionDocument(
  folder: RunFolder,
  options: CollectOptions,
  grid: GridSettings,
): Promise<ReportDocument> {
  const { result, dir } = folder.compression!;
  const baseline = folder.training?.result;
  const energy = compressionEnergySection(result, baseline, grid);
  const spec = folder.run?.kind === 'compress' ? folder.run.spec : undefined;
  const compressedModelJson = await readModelJson(path.join(dir, 'model'));
  const name = modelName(compressedModelJson) ?? 'model';
  const sensitivity = sensitivitySection(folder);
  const { before, after } = result;

  const comparison: ComparisonRow[] = [
    {
      id: 'accuracy',
      metric: `accuracy (top-1, ${result.evaluation.samples} ${result.evaluation.split} samples)`,
      unit: '%',
      label: 'measured',
      before: percent(before.accuracy),
      after: percent(after.accuracy),
      change: percent(after.accuracy) - percent(before.accuracy),
      changeUnit: 'points',
    },
    ratioRow('params', 'parameters', 'count', 'counted', before.params, after.params),
    ratioRow('macs', 'MACs per sample', 'count', 'counted', before.macs, after.macs),
    ratioRow('size', 'model file size', 'bytes', 'measured', before.sizeBytes, after.sizeBytes),
    ratioRow(
      'sizeGzip',
      'model file size, gzipped',
      'bytes',
      'measured',
      before.sizeGzipBytes,
      after.sizeGzipBytes,
    ),
    ratioRow(
      'latencyBatch1',
      `latency, batch 1 (median, ${result.backend})`,
      'ms',
      'measured',
      before.latencyMs.batch1,
      after.latencyMs.batch1,
    ),
    ratioRow(
      'latencyBatch32',
      `latency, batch 32 (median, ${result.backend})`,
      'ms',
      'measured',
      before.latencyMs.batch32,
      after.latencyMs.batch32,
    ),
    ...onnxRuntimeRows(result.onnxRuntime),
    ...energyComparisonRows(energy),
  ];
  const byId = (id: string): ComparisonRow => comparison.find((row) => row.id === id)!;
  // The idle-subtracted figure where it stands out of the noise, else the gross one.
  const preferred =
    energy.idleSubtraction?.reliable === false ? ['inference-gross'] : ['inference-net', 'inference-gross'];
  // The first preferred row that compared at all: its factor, or its verdict (noise, a
  // contradiction), never a later row's factor over an earlier row's "no measurable difference".
  const compared = preferred
    .map((id) => energy.rows.find((row) => row.id === id))
    .find(
      (row) =>
        (row?.factor !== null && row?.factor !== undefined) ||
        row?.verdict === 'no measurable difference' ||
        row?.verdict === 'contradicts latency',
    );
  const energyRow = compared?.factor !== null ? compared : undefined;
  // No factor: the verdict, or the idle-subtracted row's reason.
  const inference = compared ?? energy.rows.find((row) => row.id === 'inference-net')!;
  const opCount = energy.rows.find((row) => row.id === 'op-count')!;
  const summary: ReportSummary = {
    method: result.method,
    methodText: methodText(result),
    size: factorOf(byId('size'), 'raw bytes of the exported model'),
    macs: factorOf(byId('macs'), 'multiply-accumulates per sample'),
    latency: factorOf(byId('latencyBatch32'), `median latency at batch 32 on ${result.backend}`),
    energy: energyRow
      ? {
          factor: energyRow.factor,
          basis: `inference ${energyRow.basis} on ${result.backend}`,
          label: energyRow.label,
          source: energyRow.source,
        }
      : {
          factor: null,
          basis: `inference per 1,000 samples on ${result.backend}`,
          label:
            inference.verdict !== undefined && inference.verdict !== 'unavailable'
              ? inference.label
              : 'unavailable',
          ...(inference.verdict !== undefined ? { verdict: inference.verdict } : {}),
          reason: inference.reason ?? 'not measured',
        },
    // What int8/sparse hardware would save: only for runs whose weights are quantized or sparse.
    ...(hasQuantizedOrSparseWeights(result)
      ? {
          energyModelled:
            opCount.factor !== null
              ? { factor: opCount.factor, basis: `inference ${opCount.basis}`, label: opCount.label }
              : {
                  factor: null,
                  basis: 'inference per 1,000 samples, op-count model',
                  label: 'unavailable',
                  reason: opCount.reason ?? 'not modelled',
                },
        }
      : {}),
    accuracy: {
      before: percent(before.accuracy),
      after: percent(after.accuracy),
      deltaPoints: percent(after.accuracy) - percent(before.accuracy),
      split: result.evaluation.split,
      samples: result.evaluation.samples,
    },
  };

  const curves: TrainingCurve[] = [];
  if (baseline)
    curves.push({
      stage: 'training of the original',
      model: 'original',
      epochs: epochPoints(baseline.history),
    });
  for (const record of result.fineTune) {
    curves.push({ stage: record.stage, model: 'compressed', epochs: epochPoints(record.history) });
  }

  const dataPath = (spec && 'data' in spec ? spec.data : undefined) ?? baseline?.dataset?.source ?? null;
  const originalPath =
    spec && 'model' in spec ? spec.model : folder.training ? path.join(folder.training.dir, 'model') : null;
  const originalModel: HashRecord =
    baseline?.modelSha256 && folder.training
      ? { path: path.join(folder.training.dir, 'model'), sha256: baseline.modelSha256, recordedAt: 'run' }
      : await modelHash(originalPath);
  const architecture = architectureOf(folder, modelName(await readModelJson(originalPath ?? dir)) ?? name);

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generator: generatorOf(options),
    kind: 'compression',
    title: `Energy-savings report: ${name}, ${result.method}`,
    run: {
      dir: folder.dir,
      kind: folder.kind,
      id: folder.run?.id ?? null,
      createdAt: folder.run?.createdAt ?? null,
    },
    model: { name, architecture, classes: baseline?.dataset?.classNames?.length ?? null },
    summary,
    comparison,
    settings: settingsOf(folder, result),
    layers: layerRows(folder, sensitivity),
    training:
      curves.length > 0 ? { curves } : { curves, reason: 'no training or fine-tuning epochs in this run' },
    sensitivity,
    energy,
    environment: environmentOf(result.backend, result.device, folder.run, result.energy?.measured?.machine),
    reproducibility: {
      seed: folder.run?.seed ?? null,
      pollardVersion: folder.run?.pollardVersion ?? null,
      reportPollardVersion: POLLARD_VERSION,
      command: folder.run?.command ? shellCommand(folder.run.command) : null,
      dataset: await datasetHash(dataPath, baseline),
      originalModel,
      compressedModel: await modelHash(path.join(dir, 'model')),
      spec: folder.run?.spec ?? null,
    },
    literature: literatureFor(architecture),
    notes: [...result.notes],
  };
}

async function trainingDocument(
  folder: RunFolder,
  options: CollectOptions,
  grid: GridSettings,
): Promise<ReportDocument> {
  const { result, dir } = folder.training!;
  const energy = trainingEnergySection(result, grid);
  const name = modelName(await readModelJson(path.join(dir, 'model'))) ?? result.arch;
  const sensitivity = sensitivitySection(folder);
  const notTrainingReason = 'a training report has no compressed model';
  const comparison: ComparisonRow[] = [
    {
      id: 'accuracy',
      metric: `accuracy (top-1, ${result.evaluation?.count ?? '?'} ${result.evaluatedOn} samples)`,
      unit: '%',
      label: 'measured',
      before: percent(result.accuracy),
      after: null,
      change: null,
      changeUnit: 'points',
      reason: notTrainingReason,
    },
    ratioRow('params', 'parameters', 'count', 'counted', result.params, null, notTrainingReason),
    ratioRow('macs', 'MACs per sample', 'count', 'counted', result.macs, null, notTrainingReason),
    ratioRow('size', 'model file size', 'bytes', 'measured', result.sizeBytes, null, notTrainingReason),
    ratioRow(
      'sizeGzip',
      'model file size, gzipped',
      'bytes',
      'measured',
      result.sizeGzipBytes,
      null,
      notTrainingReason,
    ),
    ...energyComparisonRows(energy),
  ];
  const architecture = architectureOf(folder, name);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generator: generatorOf(options),
    kind: 'training',
    title: `Training report: ${name}`,
    run: {
      dir: folder.dir,
      kind: folder.kind,
      id: folder.run?.id ?? null,
      createdAt: folder.run?.createdAt ?? null,
    },
    model: { name, architecture, classes: result.dataset?.classNames?.length ?? null },
    summary: null,
    comparison,
    settings: settingsOf(folder, undefined),
    layers: layerRows(folder, sensitivity),
    training: { curves: [{ stage: 'training', model: 'original', epochs: epochPoints(result.history) }] },
    ...trainingEnergyOf(result),
    sensitivity,
    energy,
    environment: environmentOf(result.backend, result.device, folder.run, undefined),
    reproducibility: {
      seed: folder.run?.seed ?? null,
      pollardVersion: folder.run?.pollardVersion ?? null,
      reportPollardVersion: POLLARD_VERSION,
      command: folder.run?.command ? shellCommand(folder.run.command) : null,
      dataset: await datasetHash(result.dataset?.source ?? null, result),
      originalModel: result.modelSha256
        ? { path: path.join(dir, 'model'), sha256: result.modelSha256, recordedAt: 'run' }
        : await modelHash(path.join(dir, 'model')),
      compressedModel: null,
      spec: folder.run?.spec ?? null,
    },
    literature: literatureFor(architecture),
    notes: [
      'This is a training report: the run has no compressed model to compare with. Compress it (pollard compress --model <this run>) for an energy-savings report.',
    ],
  };
}

/** Everything the report of `runDir` shows. */
export async function collectReport(runDir: string, options: CollectOptions = {}): Promise<ReportDocument> {
  const folder = await readRunFolder(runDir);
  const grid = options.grid ?? {};
  return folder.compression
    ? compressionDocument(folder, options, grid)
    : trainingDocument(folder, options, grid);
}
