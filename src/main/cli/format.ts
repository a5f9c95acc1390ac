/**
 * Human-readable output for each command (the `--json` output is the result object itself). Each
 * job's result is read as its kind's type (src/shared/job-results.ts).
 */
import { chanceLevel } from '../../shared/chance';
import type {
  CompressResult,
  ExportModelResult,
  InfoResult,
  InspectResult,
  JobResult,
  ReportResult,
  TrainResult,
} from '../../shared/job-results';
import { formatExplore } from './explore-format';

const int = (n: number | undefined): string =>
  n !== undefined ? Math.round(n).toLocaleString('en-US') : '—';
const pct = (n: number | undefined): string => (n !== undefined ? `${(n * 100).toFixed(2)}%` : '—');
const bytes = (n: number | undefined): string => {
  if (n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
};
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const times = (n: number | null): string => (n !== null ? `${n.toFixed(2)}×` : '—');
/** A change of two 0..1 accuracies in percentage points, always signed: "+0.40 pts", "−1.20 pts". */
const points = (before: number, after: number): string => {
  const change = (after - before) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(2)} pts`;
};
const ratio = (before: number, after: number): string =>
  after > 0 ? `${(before / after).toFixed(2)}×` : '—';

/**
 * Render rows as an aligned table: numbers (`numeric`) right-aligned after a left-aligned first
 * column, or (`text`) every column left-aligned. The last column of a text table is not padded,
 * so a long note does not widen every line.
 */
export function table(rows: string[][], align: 'numeric' | 'text' = 'numeric'): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const cellText = (cell: string, i: number, last: boolean): string => {
    if (align === 'text') return last ? cell : cell.padEnd(widths[i]!);
    return i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
  };
  return (
    rows
      .map((row) =>
        row
          .map((cell, i) => cellText(cell, i, i === row.length - 1))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function formatCompression(result: CompressResult): string {
  const { before, after, evaluation } = result;
  const measured = evaluation.samples !== 0;
  const pair = (label: string, show: (n: number) => string, b: number, a: number): string[] => [
    label,
    show(b),
    show(a),
    ratio(b, a),
  ];
  const rows = [
    ['', 'before', 'after', 'change'],
    [
      'accuracy',
      measured ? pct(before.accuracy) : 'n/a',
      measured ? pct(after.accuracy) : 'n/a',
      measured ? points(before.accuracy, after.accuracy) : 'n/a',
    ],
    pair('parameters', int, before.params, after.params),
    pair('MACs', int, before.macs, after.macs),
    pair('file size', bytes, before.sizeBytes, after.sizeBytes),
    pair('gzipped', bytes, before.sizeGzipBytes, after.sizeGzipBytes),
    pair('latency, batch 1', ms, before.latencyMs.batch1, after.latencyMs.batch1),
    pair('latency, batch 32', ms, before.latencyMs.batch32, after.latencyMs.batch32),
    ...onnxRuntimeRows(result.onnxRuntime),
  ];
  const none = measured ? '' : ': none, so there is no accuracy to compare';
  return table(rows) + `accuracy on ${int(evaluation.samples)} ${evaluation.split} samples${none}\n`;
}

/** Both models deployed on ONNX Runtime (CPU), where the compress job measured them. */
function onnxRuntimeRows(deployment: CompressResult['onnxRuntime']): string[][] {
  if (!deployment) return [];
  const { before, after, verdict } = deployment;
  const tag = `ONNX Runtime ${before.format}→${after.format}`;
  const latency = (key: 'batch1' | 'batch32') => [
    `${tag}, batch ${key === 'batch1' ? 1 : 32}`,
    ms(before.latencyMs[key]),
    ms(after.latencyMs[key]),
    verdict[key],
  ];
  return [
    [`${tag}, accuracy`, pct(before.accuracy), pct(after.accuracy), points(before.accuracy, after.accuracy)],
    latency('batch1'),
    latency('batch32'),
  ];
}

/** When and why a train run pruned, and the dense comparison where there is one. */
function formatPruneWhileTraining(result: TrainResult): string[] {
  const pwt = result.pruneWhileTraining;
  if (!pwt) return [];
  const lines = [
    pwt.prunedAtEpoch !== null
      ? `pruned after epoch ${pwt.prunedAtEpoch} (${pwt.detail}): MACs ${int(pwt.macsBefore)} → ${int(pwt.macsAfter)}, parameters ${int(pwt.paramsBefore)} → ${int(pwt.paramsAfter)}`
      : `not pruned: ${pwt.detail}`,
  ];
  const { dense, savings } = result;
  if (dense && savings) {
    const energy = savings.energy;
    lines.push(
      `dense run: accuracy ${pct(dense.accuracy)}, ${dense.wallSeconds.toFixed(1)} s; this run ${result.wallSeconds.toFixed(1)} s`,
      `savings: wall time ${times(savings.wallTime.ratio)}, CPU time ${times(savings.cpuTime.ratio)}; training energy ${times(energy.ratio)} (${energy.label}${energy.reason ? `: ${energy.reason}` : ''})`,
    );
  }
  return lines;
}

/**
 * " on N samples", and a hint when the accuracy is within 2 points of guessing (1 in N classes):
 * a model at chance level usually gets its input scaled or its classes ordered differently.
 */
export function evaluatedOn(evaluation: { accuracy: number; count: number; classNames: string[] }): string {
  const count = ` on ${int(evaluation.count)} samples`;
  const classes = evaluation.classNames.length;
  const chance = chanceLevel(evaluation.accuracy, classes);
  if (chance === undefined) return count;
  return `${count}: chance level for ${classes} classes (${pct(chance)}); check --input-scaling and the class order`;
}

function formatInfo(result: InfoResult): string[] {
  const lines = ['Backends'];
  lines.push(
    table(
      result.backends.map((r) => [r.name, r.status, r.device ?? r.reason ?? '']),
      'text',
    ).trimEnd(),
  );
  if (result.energySources.length > 0) {
    lines.push('', 'Energy sources');
    lines.push(
      table(
        // An unavailable source's label is "unavailable" too: say it once.
        result.energySources.map((s) => [
          s.id,
          s.status,
          ...(s.label === s.status ? [] : [s.label]),
          s.detail ?? s.reason ?? '',
        ]),
        'text',
      ).trimEnd(),
    );
  }
  lines.push('', 'System');
  lines.push(
    table(
      Object.entries(result.system).map(([k, v]) => [k, String(v)]),
      'text',
    ).trimEnd(),
  );
  return lines;
}

function formatInspect(result: InspectResult): string[] {
  return [
    `${result.source} (${result.format})`,
    // Every input and output of the model, one line each.
    ...(result.inputs ?? []).map((shape, i) => `input ${i + 1}: ${JSON.stringify(shape)}`),
    ...(result.outputs ?? []).map((shape, i) => `output ${i + 1}: ${JSON.stringify(shape)}`),
    table([
      ['layer', 'type', 'output shape', 'params', 'MACs'],
      ...result.layers.map((l) => [
        l.name,
        l.className,
        JSON.stringify(l.outputShape),
        int(l.params),
        int(l.macs),
      ]),
      ['total', '', '', int(result.params), int(result.macs)],
    ]).trimEnd(),
    `size ${bytes(result.sizeBytes)} (gzipped ${bytes(result.sizeGzipBytes)}) · weights ${result.weightDtypes.join(',')}`,
  ];
}

function formatExportModel(result: ExportModelResult): string[] {
  const lines = [`${result.format}:`];
  for (const file of result.files) lines.push(`  ${file.path}  ${bytes(file.bytes)}`);
  if (result.onnx) lines.push(...formatOnnxExport(result.onnx));
  return lines;
}

/** The report's energy section (report/energy-text.ts): the headline, then one row per figure. */
function formatReport(result: ReportResult): string[] {
  const { headline, rows } = result.energy;
  const lines = [result.title, `${headline.title}: ${headline.text}`];
  if (rows.length > 0)
    lines.push(table([['energy', 'before', 'after', 'change'], ...rows], 'text').trimEnd());
  for (const [format, file] of Object.entries(result.files)) lines.push(`${format.padEnd(4)}  ${file}`);
  return lines;
}

/** What a model run says first: accuracy (with its samples where known), top-5, size. */
function headline(figures: {
  accuracy?: number;
  evaluated?: string;
  top5?: number | undefined;
  params?: number;
  macs?: number;
  sizeBytes?: number;
}): string[] {
  const lines: string[] = [];
  if (figures.accuracy !== undefined)
    lines.push(`accuracy ${pct(figures.accuracy)}${figures.evaluated ?? ''}`);
  if (figures.top5 !== undefined) lines.push(`top-5 ${pct(figures.top5)}`);
  if (figures.params !== undefined)
    lines.push(
      `parameters ${int(figures.params)} · MACs ${int(figures.macs)} · size ${bytes(figures.sizeBytes)}`,
    );
  return lines;
}

function formatTrain(result: TrainResult): string[] {
  const parallel = result.parallelism;
  const threads = parallel.replicas > 1 ? `, ${parallel.replicas} threads` : '';
  const micro = parallel.microBatch < parallel.sliceSize ? `, micro-batches of ${parallel.microBatch}` : '';
  return [
    ...headline(result),
    `training ${int(result.samplesPerSecond)} samples/s on ${result.backend}${threads}${micro}`,
    ...formatPruneWhileTraining(result),
  ];
}

function resultLines(result: JobResult): string[] {
  switch (result.kind) {
    case 'info':
      return formatInfo(result);
    case 'inspect':
      return formatInspect(result);
    case 'compress':
      return [formatCompression(result).trimEnd()];
    case 'export-model':
      return formatExportModel(result);
    case 'report':
      return formatReport(result);
    case 'train':
      return formatTrain(result);
    case 'evaluate':
      return headline({ ...result, evaluated: evaluatedOn(result) });
    case 'sensitivity':
      return headline({ params: result.params, macs: result.macs });
    case 'demo':
      return [
        ...headline(result),
        formatCompression(result.compression).trimEnd(),
        `report: ${result.report}`,
      ];
    case 'dataset':
    case 'plan':
    case 'explore':
      return [];
  }
}

export function formatResult(result: JobResult): string {
  if (result.kind === 'explore') return formatExplore(result);
  const lines = resultLines(result);
  if ('runDir' in result && typeof result.runDir === 'string') lines.push(`run folder: ${result.runDir}`);
  return lines.join('\n') + '\n';
}

/** The ONNX export's checks: float32 vs TensorFlow.js, and int8 accuracy and latency. */
function formatOnnxExport(onnx: NonNullable<ExportModelResult['onnx']>): string[] {
  const check = onnx.verification;
  const sci = (v: number | undefined): string => (v !== undefined ? v.toExponential(1) : 'n/a');
  const lines = [
    `ONNX opset ${onnx.opset}, input ${onnx.layout.toUpperCase()}, ${onnx.foldedBatchNorms} BatchNorms folded`,
    `float32 vs TensorFlow.js (${check.samples} ${check.inputs} samples): max |Δ| logits ${sci(check.maxAbsDiffLogits)}, outputs ${sci(check.maxAbsDiffOutput)}`,
  ];
  const int8 = onnx.int8;
  if (!int8) return lines;
  const { accuracy, calibration, activationRanges: sources, speedup } = int8;
  const { float32: f, int8: q } = int8.latencyMs;
  const calibrated = `calibrated on ${calibration.samples} samples (${calibration.method})`;
  lines.push(
    sources.fromQat > 0
      ? `int8 (${int8.runtime}): activation ranges learned in QAT for ${sources.fromQat} tensors` +
          (sources.calibrated ? `, ${sources.calibrated} ${calibrated}` : '')
      : `int8 (${int8.runtime}): ${calibrated}`,
    `  accuracy on ${accuracy.samples} ${accuracy.split} samples: float32 ${pct(accuracy.float32)}, int8 ${pct(accuracy.int8)}`,
    `  latency batch 1: float32 ${ms(f.batch1)}, int8 ${ms(q.batch1)} (speedup ${times(speedup.batch1)})`,
    `  latency batch 32: float32 ${ms(f.batch32)}, int8 ${ms(q.batch32)} (speedup ${times(speedup.batch32)})`,
  );
  return lines;
}
