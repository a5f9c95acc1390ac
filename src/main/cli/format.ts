/** Human-readable output for each command (the `--json` output is the result object itself). */
import type { ExploreResult } from '../../shared/job-results';
import type { JobSpec } from '../../shared/jobs';
import { formatExplore } from './explore-format';

type Result = Record<string, unknown>;

const int = (n: unknown): string => (typeof n === 'number' ? Math.round(n).toLocaleString('en-US') : '—');
const pct = (n: unknown): string => (typeof n === 'number' ? `${(n * 100).toFixed(2)}%` : '—');
const bytes = (n: unknown): string => {
  if (typeof n !== 'number') return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
};
const ms = (n: unknown): string => (typeof n === 'number' ? `${n.toFixed(2)} ms` : '—');
/** A change of two 0..1 accuracies in percentage points, always signed: "+0.40 pts", "−1.20 pts". */
const points = (before: unknown, after: unknown): string => {
  if (typeof before !== 'number' || typeof after !== 'number') return '—';
  const change = (after - before) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(2)} pts`;
};
const ratio = (before: unknown, after: unknown): string =>
  typeof before === 'number' && typeof after === 'number' && after > 0
    ? `${(before / after).toFixed(2)}×`
    : '—';

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

function record(value: unknown): Result {
  return value && typeof value === 'object' ? (value as Result) : {};
}

function formatCompression(result: Result): string {
  const before = record(result.before);
  const after = record(result.after);
  const latencyBefore = record(before.latencyMs);
  const latencyAfter = record(after.latencyMs);
  const evaluation = record(result.evaluation);
  const measured = evaluation.samples !== 0;
  const rows = [
    ['', 'before', 'after', 'change'],
    [
      'accuracy',
      measured ? pct(before.accuracy) : 'n/a',
      measured ? pct(after.accuracy) : 'n/a',
      measured ? points(before.accuracy, after.accuracy) : 'n/a',
    ],
    ['parameters', int(before.params), int(after.params), ratio(before.params, after.params)],
    ['MACs', int(before.macs), int(after.macs), ratio(before.macs, after.macs)],
    ['file size', bytes(before.sizeBytes), bytes(after.sizeBytes), ratio(before.sizeBytes, after.sizeBytes)],
    [
      'gzipped',
      bytes(before.sizeGzipBytes),
      bytes(after.sizeGzipBytes),
      ratio(before.sizeGzipBytes, after.sizeGzipBytes),
    ],
    [
      'latency, batch 1',
      ms(latencyBefore.batch1),
      ms(latencyAfter.batch1),
      ratio(latencyBefore.batch1, latencyAfter.batch1),
    ],
    [
      'latency, batch 32',
      ms(latencyBefore.batch32),
      ms(latencyAfter.batch32),
      ratio(latencyBefore.batch32, latencyAfter.batch32),
    ],
  ];
  rows.push(...onnxRuntimeRows(result));
  const where =
    typeof evaluation.samples === 'number'
      ? `accuracy on ${int(evaluation.samples)} ${String(evaluation.split)} samples${measured ? '' : ': none, so there is no accuracy to compare'}\n`
      : '';
  return table(rows) + where;
}

/** Both models deployed on ONNX Runtime (CPU), where the compress job measured them. */
function onnxRuntimeRows(result: Result): string[][] {
  if (result.onnxRuntime === undefined) return [];
  const d = record(result.onnxRuntime);
  const before = record(d.before);
  const after = record(d.after);
  const verdict = record(d.verdict);
  const tag = `ONNX Runtime ${String(before.format)}→${String(after.format)}`;
  const latency = (key: 'batch1' | 'batch32') => [
    `${tag}, batch ${key === 'batch1' ? 1 : 32}`,
    ms(record(before.latencyMs)[key]),
    ms(record(after.latencyMs)[key]),
    String(verdict[key]),
  ];
  return [
    [`${tag}, accuracy`, pct(before.accuracy), pct(after.accuracy), points(before.accuracy, after.accuracy)],
    latency('batch1'),
    latency('batch32'),
  ];
}

/** When and why a train run pruned, and the dense comparison where there is one. */
function formatPruneWhileTraining(result: Result): string[] {
  const pwt = record(result.pruneWhileTraining);
  const lines = [
    typeof pwt.prunedAtEpoch === 'number'
      ? `pruned after epoch ${pwt.prunedAtEpoch} (${String(pwt.detail)}): MACs ${int(pwt.macsBefore)} → ${int(pwt.macsAfter)}, parameters ${int(pwt.paramsBefore)} → ${int(pwt.paramsAfter)}`
      : `not pruned: ${String(pwt.detail)}`,
  ];
  if (result.dense !== undefined) {
    const dense = record(result.dense);
    const savings = record(result.savings);
    const wall = record(savings.wallTime);
    const cpu = record(savings.cpuTime);
    const energy = record(savings.energy);
    const times = (n: unknown): string => (typeof n === 'number' ? `${n.toFixed(2)}×` : '—');
    lines.push(
      `dense run: accuracy ${pct(dense.accuracy)}, ${Number(dense.wallSeconds).toFixed(1)} s; this run ${Number(result.wallSeconds).toFixed(1)} s`,
      `savings: wall time ${times(wall.ratio)}, CPU time ${times(cpu.ratio)}; training energy ${times(energy.ratio)} (${String(energy.label)}${energy.reason ? `: ${String(energy.reason)}` : ''})`,
    );
  }
  return lines;
}

/**
 * " on N samples", and a hint when the accuracy is within 2 points of guessing (1 in N classes):
 * a model at chance level usually gets its input scaled or its classes ordered differently.
 */
export function evaluatedOn(result: Result): string {
  const count = typeof result.count === 'number' ? ` on ${int(result.count)} samples` : '';
  const classes = Array.isArray(result.classNames) ? result.classNames.length : 0;
  const accuracy = typeof result.accuracy === 'number' ? result.accuracy : undefined;
  if (accuracy === undefined || classes < 2 || accuracy > 1 / classes + 0.02) return count;
  return `${count}: chance level for ${classes} classes (${pct(1 / classes)}); check --input-scaling and the class order`;
}

/** Every input and output of an inspected model, one line each. */
function ioLines(result: Result): string[] {
  const shapes = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  return [
    ...shapes(result.inputs).map((shape, i) => `input ${i + 1}: ${JSON.stringify(shape)}`),
    ...shapes(result.outputs).map((shape, i) => `output ${i + 1}: ${JSON.stringify(shape)}`),
  ];
}

/** The report's energy section (report/energy-text.ts): the headline, then one row per figure. */
function formatEnergyText(energy: Result): string[] {
  const headline = record(energy.headline);
  const rows = Array.isArray(energy.rows) ? (energy.rows as string[][]) : [];
  if (headline.title === undefined) return [];
  const lines = [`${String(headline.title)}: ${String(headline.text)}`];
  if (rows.length > 0)
    lines.push(table([['energy', 'before', 'after', 'change'], ...rows], 'text').trimEnd());
  return lines;
}

export function formatResult(spec: JobSpec, result: Result): string {
  const lines: string[] = [];
  switch (spec.kind) {
    case 'info': {
      const rungs = Array.isArray(result.backends) ? (result.backends as Result[]) : [];
      lines.push('Backends');
      lines.push(
        table(
          rungs.map((r) => [String(r.name), String(r.status), String(r.device ?? r.reason ?? '')]),
          'text',
        ).trimEnd(),
      );
      const sources = Array.isArray(result.energySources) ? (result.energySources as Result[]) : [];
      if (sources.length > 0) {
        lines.push('', 'Energy sources');
        lines.push(
          table(
            // An unavailable source's label is "unavailable" too: say it once.
            sources.map((s) => [
              String(s.id),
              String(s.status),
              ...(s.label === s.status ? [] : [String(s.label ?? '')]),
              String(s.detail ?? s.reason ?? ''),
            ]),
            'text',
          ).trimEnd(),
        );
      }
      const system = record(result.system);
      if (Object.keys(system).length > 0) {
        lines.push('', 'System');
        lines.push(
          table(
            Object.entries(system).map(([k, v]) => [k, String(v)]),
            'text',
          ).trimEnd(),
        );
      }
      break;
    }
    case 'inspect': {
      const layers = Array.isArray(result.layers) ? (result.layers as Result[]) : [];
      lines.push(`${String(result.source)} (${String(result.format)})`);
      lines.push(...ioLines(result));
      lines.push(
        table([
          ['layer', 'type', 'output shape', 'params', 'MACs'],
          ...layers.map((l) => [
            String(l.name),
            String(l.className),
            JSON.stringify(l.outputShape),
            int(l.params),
            int(l.macs),
          ]),
          ['total', '', '', int(result.params), int(result.macs)],
        ]).trimEnd(),
      );
      lines.push(
        `size ${bytes(result.sizeBytes)} (gzipped ${bytes(result.sizeGzipBytes)}) · weights ${String(result.weightDtypes ?? '')}`,
      );
      break;
    }
    case 'compress':
      lines.push(formatCompression(result).trimEnd());
      break;
    case 'export-model': {
      const files = Array.isArray(result.files) ? (result.files as Result[]) : [];
      lines.push(`${String(result.format)}:`);
      for (const file of files) lines.push(`  ${String(file.path)}  ${bytes(file.bytes)}`);
      if (result.onnx !== undefined) lines.push(...formatOnnxExport(record(result.onnx)));
      break;
    }
    case 'explore':
      return formatExplore(result as unknown as ExploreResult);
    case 'report': {
      lines.push(String(result.title ?? 'report'));
      lines.push(...formatEnergyText(record(result.energy)));
      for (const [format, file] of Object.entries(record(result.files)))
        lines.push(`${format.padEnd(4)}  ${String(file)}`);
      break;
    }
    default: {
      if (result.accuracy !== undefined) lines.push(`accuracy ${pct(result.accuracy)}${evaluatedOn(result)}`);
      if (result.top5 !== undefined) lines.push(`top-5 ${pct(result.top5)}`);
      if (result.params !== undefined)
        lines.push(
          `parameters ${int(result.params)} · MACs ${int(result.macs)} · size ${bytes(result.sizeBytes)}`,
        );
      if (result.samplesPerSecond !== undefined) {
        const parallel = record(result.parallelism);
        const threads =
          typeof parallel.replicas === 'number' && parallel.replicas > 1
            ? `, ${parallel.replicas} threads`
            : '';
        const micro =
          typeof parallel.microBatch === 'number' &&
          typeof parallel.sliceSize === 'number' &&
          parallel.microBatch < parallel.sliceSize
            ? `, micro-batches of ${parallel.microBatch}`
            : '';
        lines.push(
          `training ${int(result.samplesPerSecond)} samples/s on ${String(result.backend)}${threads}${micro}`,
        );
      }
      if (result.pruneWhileTraining !== undefined) lines.push(...formatPruneWhileTraining(result));
      if (result.compression !== undefined)
        lines.push(formatCompression(record(result.compression)).trimEnd());
      if (result.report !== undefined) lines.push(`report: ${String(result.report)}`);
    }
  }
  if (typeof result.runDir === 'string') lines.push(`run folder: ${result.runDir}`);
  return lines.join('\n') + '\n';
}

/** The ONNX export's checks: float32 vs TensorFlow.js, and int8 accuracy and latency. */
function formatOnnxExport(onnx: Result): string[] {
  const check = record(onnx.verification);
  const sci = (v: unknown): string => (typeof v === 'number' ? v.toExponential(1) : 'n/a');
  const lines = [
    `ONNX opset ${String(onnx.opset)}, input ${String(onnx.layout).toUpperCase()}, ${String(onnx.foldedBatchNorms)} BatchNorms folded`,
    `float32 vs TensorFlow.js (${String(check.samples)} ${String(check.inputs)} samples): max |Δ| logits ${sci(check.maxAbsDiffLogits)}, outputs ${sci(check.maxAbsDiffOutput)}`,
  ];
  if (onnx.int8 !== undefined) {
    const int8 = record(onnx.int8);
    const accuracy = record(int8.accuracy);
    const latency = record(int8.latencyMs);
    const f = record(latency.float32);
    const q = record(latency.int8);
    const speedup = record(int8.speedup);
    const ms = (v: unknown): string => (typeof v === 'number' ? `${v.toFixed(2)} ms` : 'n/a');
    const x = (v: unknown): string => (typeof v === 'number' ? `${v.toFixed(2)}×` : 'n/a');
    const calibration = record(int8.calibration);
    const sources = record(int8.activationRanges);
    const calibrated = `calibrated on ${String(calibration.samples)} samples (${String(calibration.method)})`;
    lines.push(
      typeof sources.fromQat === 'number' && sources.fromQat > 0
        ? `int8 (${String(int8.runtime)}): activation ranges learned in QAT for ${sources.fromQat} tensors` +
            (sources.calibrated ? `, ${String(sources.calibrated)} ${calibrated}` : '')
        : `int8 (${String(int8.runtime)}): ${calibrated}`,
      `  accuracy on ${String(accuracy.samples)} ${String(accuracy.split)} samples: float32 ${pct(accuracy.float32)}, int8 ${pct(accuracy.int8)}`,
      `  latency batch 1: float32 ${ms(f.batch1)}, int8 ${ms(q.batch1)} (speedup ${x(speedup.batch1)})`,
      `  latency batch 32: float32 ${ms(f.batch32)}, int8 ${ms(q.batch32)} (speedup ${x(speedup.batch32)})`,
    );
  }
  return lines;
}
