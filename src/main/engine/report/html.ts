/**
 * The report as one self-contained HTML page: inline CSS, charts as inline SVG, no scripts and a
 * Content-Security-Policy that forbids every fetch, so it opens offline and nothing leaves the
 * page. Print CSS fits A4 and Letter. Every text from a run (names from model files included)
 * is escaped; an unavailable figure reads "unavailable: <reason>".
 */
import { trainingSectionHtml } from './training-section';
import { plainEnergyLabel } from '../../../shared/energy-words';
import { energyHeadline, energyHeadlineHtml } from './energy-headline';
import { escapeHtml } from './escape';
import {
  formatFactor,
  formatGrams,
  formatInteger,
  formatJoules,
  formatPercent,
  formatPoints,
  formatValue,
  formatWatts,
} from './format';
import type {
  ComparisonRow,
  EnergyRow,
  EnergyStat,
  HashRecord,
  ReportDocument,
  SummaryFactor,
  TrainingCurve,
} from './report-types';
import {
  COMPRESSED_COLOUR,
  lineChart,
  ORIGINAL_COLOUR,
  pairedBars,
  paletteColour,
  type LineSeries,
} from './svg-charts';

export interface HtmlOptions {
  /** Fix the paper size (the PDF); absent: the printer's choice (the page fits A4 and Letter). */
  paper?: 'a4' | 'letter';
}

const e = escapeHtml;

export function unavailableHtml(reason: string | undefined): string {
  return `<span class="unavailable">unavailable: ${e(reason ?? 'no figure')}</span>`;
}

/** A verdict that is not a number (noise, a contradiction): said as it is, not as "unavailable". */
function verdictHtml(verdict: string | undefined, reason: string | undefined): string | null {
  if (verdict !== 'no measurable difference' && verdict !== 'contradicts latency') return null;
  return `<span class="verdict" data-verdict="${e(verdict)}">${e(reason ?? verdict)}</span>`;
}

/** How a figure was obtained, in plain words, with the technical label as the detail. */
function labelHtml(label: string, source?: string): string {
  const kind = label.startsWith('measured')
    ? 'measured'
    : label.startsWith('modelled')
      ? 'modelled'
      : label === 'unavailable'
        ? 'none'
        : 'other';
  const words = plainEnergyLabel(label, source);
  const detail = words === label ? '' : ` <span class="label-detail">(${e(label)})</span>`;
  return `<span class="label label-${kind}" data-label="${e(label)}">${e(words)}${detail}</span>`;
}

const CSS = `
:root { color-scheme: light; --ink: #111827; --muted: #4b5563; --line: #d1d5db; --soft: #f3f4f6; --accent: ${COMPRESSED_COLOUR}; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--ink); font-size: 14px; line-height: 1.45; }
body { margin: 0 auto; padding: 24px; max-width: 1000px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); break-after: avoid; }
h3 { font-size: 1rem; margin: 16px 0 6px; break-after: avoid; }
p, li { overflow-wrap: anywhere; }
.meta { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
.summary { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; margin-top: 16px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; break-inside: avoid; background: #fff; }
.tile-name { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.tile-value { font-size: 1.5rem; font-weight: 700; }
.tile-value .unavailable { font-size: 0.85rem; font-weight: 400; }
.tile-value .verdict { font-size: 1rem; font-weight: 600; font-style: normal; }
.tile-reason { font-size: 0.8rem; color: var(--muted); margin: 2px 0 4px; }
.tile-basis { font-size: 0.8rem; color: var(--muted); }
.tile.method { grid-column: 1 / -1; }
.tile.method .tile-value { font-size: 1rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td.figure { width: 30%; }
table.settings td:first-child { width: 32%; }
th { background: var(--soft); font-weight: 600; font-size: 0.85rem; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
.unavailable { color: #92400e; font-style: italic; }
.verdict { color: var(--muted); font-style: italic; }
.label { display: inline-block; font-size: 0.72rem; border-radius: 3px; padding: 0 4px; border: 1px solid var(--line); white-space: normal; overflow-wrap: anywhere; text-align: left; }
.label-detail { color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.66rem; }
.label-measured { background: #ecfdf5; border-color: #6ee7b7; }
.label-modelled { background: #eff6ff; border-color: #93c5fd; }
.label-none { background: #fffbeb; border-color: #fcd34d; }
.spread { color: var(--muted); font-size: 0.8rem; }
figure { margin: 8px 0 14px; break-inside: avoid; }
figcaption { font-size: 0.8rem; color: var(--muted); }
svg.chart { width: 100%; height: auto; max-width: 680px; display: block; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .tick, svg .legend { font-size: 11px; fill: var(--ink); }
svg .axis-label, svg .chart-note { font-size: 11px; fill: var(--muted); }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .axis { stroke: #6b7280; stroke-width: 1; }
svg .reference { stroke: #9ca3af; stroke-width: 1; stroke-dasharray: 3 3; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.82rem; overflow-wrap: anywhere; word-break: break-all; }
.note { color: var(--muted); font-size: 0.85rem; }
ul.statements li { margin-bottom: 4px; }
ul.warnings { border-left: 3px solid #f59e0b; background: #fffbeb; padding: 6px 6px 6px 26px; }
footer { margin-top: 28px; color: var(--muted); font-size: 0.8rem; border-top: 1px solid var(--line); padding-top: 6px; }
@page { margin: 14mm 12mm; }
@media print {
  html { font-size: 9pt; }
  body { padding: 0; max-width: none; }
  .summary { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  h2 { margin-top: 16px; }
  section { break-inside: auto; }
  a { color: inherit; text-decoration: none; }
  .label, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

function factorTile(id: string, name: string, factor: SummaryFactor): string {
  // A verdict in a tile: its short name as the value, the sentence under it in small type.
  const verdict =
    factor.factor === null && verdictHtml(factor.verdict, undefined) !== null ? factor.verdict : undefined;
  const value =
    factor.factor !== null
      ? e(formatFactor(factor.factor))
      : verdict !== undefined
        ? verdictHtml(verdict, verdict)!
        : unavailableHtml(factor.reason);
  const reason =
    verdict !== undefined && factor.reason && factor.reason !== verdict
      ? `<div class="tile-reason">${e(factor.reason)}</div>`
      : '';
  return (
    `<div class="tile" data-summary="${id}" data-value="${e(String(factor.factor ?? ''))}">` +
    `<div class="tile-name">${e(name)}</div><div class="tile-value">${value}</div>${reason}` +
    `<div class="tile-basis">${e(factor.basis)} ${labelHtml(factor.label, factor.source)}</div></div>`
  );
}

function summaryHtml(doc: ReportDocument): string {
  const summary = doc.summary;
  if (!summary) {
    return `<section id="summary"><h2>Summary</h2><p>${e(doc.notes[0] ?? 'No comparison.')}</p></section>`;
  }
  const accuracy = summary.accuracy;
  return (
    `<section id="summary"><div class="summary">` +
    `<div class="tile method" data-summary="method" data-value="${e(summary.method)}"><div class="tile-name">method</div><div class="tile-value">${e(summary.methodText)}</div></div>` +
    factorTile('size', 'size ×', summary.size) +
    factorTile('macs', 'MACs ×', summary.macs) +
    factorTile('latency', 'latency ×', summary.latency) +
    factorTile('energy', 'energy ×, this machine', summary.energy) +
    (summary.energyModelled
      ? factorTile('energyModelled', 'energy ×, int8/sparse hardware', summary.energyModelled)
      : '') +
    `<div class="tile" data-summary="accuracy" data-value="${e(String(accuracy.deltaPoints))}"><div class="tile-name">accuracy Δ</div>` +
    `<div class="tile-value">${e(formatPoints(accuracy.deltaPoints))}</div>` +
    `<div class="tile-basis">${e(formatPercent(accuracy.before))} → ${e(formatPercent(accuracy.after))}, ${e(String(accuracy.samples))} ${e(accuracy.split)} samples ${labelHtml('measured')}</div></div>` +
    `</div></section>`
  );
}

function cell(value: number | null, unit: string, reason: string | undefined): string {
  return value === null
    ? `<td>${unavailableHtml(reason)}</td>`
    : `<td class="num">${e(formatValue(value, unit))}</td>`;
}

function changeHtml(row: ComparisonRow): string {
  if (row.change !== null) {
    return `<td class="num">${e(row.changeUnit === 'points' ? formatPoints(row.change) : formatFactor(row.change))}</td>`;
  }
  // Nothing to compare with (a training report) reads as a dash; a failed comparison says why.
  if (row.before === null || row.after === null) return '<td>—</td>';
  return `<td>${verdictHtml(row.verdict, row.reason) ?? unavailableHtml(row.reason)}</td>`;
}

function comparisonHtml(doc: ReportDocument): string {
  if (doc.kind === 'training') {
    const rows = doc.comparison
      .map(
        (row) =>
          `<tr data-row="${e(row.id)}"><td>${e(row.metric)}</td>${cell(row.before, row.unit, row.reason)}<td>${labelHtml(row.label)}</td></tr>`,
      )
      .join('');
    return `<section id="comparison"><h2>The trained model</h2><table><thead><tr><th>metric</th><th class="num">value</th><th>how obtained</th></tr></thead><tbody>${rows}</tbody></table></section>`;
  }
  const rows = doc.comparison
    .map(
      (row) =>
        `<tr data-row="${e(row.id)}"><td>${e(row.metric)}</td>` +
        (row.before === null && row.after === null
          ? `<td colspan="3">${unavailableHtml(row.reason)}</td>`
          : cell(row.before, row.unit, row.reason) +
            cell(row.after, row.unit, row.reason) +
            changeHtml(row)) +
        `<td>${labelHtml(row.label, row.source)}</td></tr>`,
    )
    .join('');
  return (
    `<section id="comparison"><h2>Before and after</h2>` +
    `<table><thead><tr><th>metric</th><th class="num">original</th><th class="num">compressed</th><th class="num">change</th><th>how obtained</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">Change: original ÷ compressed for costs (× smaller, fewer or faster); accuracy in points. A cut in MACs is not the same as a cut in latency.</p></section>`
  );
}

function settingsHtml(doc: ReportDocument): string {
  if (doc.settings.length === 0)
    return `<section id="settings"><h2>Settings</h2><p>${unavailableHtml('no settings recorded (the run has no run.json)')}</p></section>`;
  const groups = [...new Set(doc.settings.map((setting) => setting.group))];
  const tables = groups
    .map((group) => {
      const rows = doc.settings
        .filter((setting) => setting.group === group)
        .map((setting) => `<tr><td>${e(setting.name)}</td><td class="mono">${e(setting.value)}</td></tr>`)
        .join('');
      return `<h3>${e(group)}</h3><table class="settings"><tbody>${rows}</tbody></table>`;
    })
    .join('');
  return `<section id="settings"><h2>Settings</h2>${tables}</section>`;
}

function beforeAfter(before: number, after: number | null, format: (n: number) => string): string {
  return after === null ? e(format(before)) : `${e(format(before))} → ${e(format(after))}`;
}

function layersHtml(doc: ReportDocument): string {
  const { rows, sensitivityRatio, sensitivityReason } = doc.layers;
  if (rows.length === 0)
    return `<section id="layers"><h2>Layers</h2><p>${unavailableHtml('no layer table in this run')}</p></section>`;
  const showSparsity = rows.some((row) => row.sparsity !== null);
  const showSensitivity = sensitivityReason === undefined;
  const head =
    `<tr><th>layer</th><th>type</th><th class="num">channels</th><th class="num">parameters</th><th class="num">MACs</th>` +
    (showSparsity ? '<th class="num">sparsity</th>' : '') +
    `<th>weights</th>` +
    (showSensitivity
      ? `<th class="num">sensitivity (points lost at ${e(formatPercent((sensitivityRatio ?? 0) * 100, 0))} pruned)</th>`
      : '') +
    '</tr>';
  const body = rows
    .map(
      (row) =>
        `<tr data-layer="${e(row.name)}"><td class="mono">${e(row.name)}</td><td>${e(row.className)}</td>` +
        `<td class="num">${beforeAfter(row.channelsBefore, row.channelsAfter, formatInteger)}</td>` +
        `<td class="num">${beforeAfter(row.paramsBefore, row.paramsAfter, formatInteger)}</td>` +
        `<td class="num">${beforeAfter(row.macsBefore, row.macsAfter, formatInteger)}</td>` +
        (showSparsity
          ? `<td class="num">${row.sparsity === null ? '—' : e(formatPercent(row.sparsity * 100, 1))}</td>`
          : '') +
        `<td>${e(row.dtype ?? 'float32')}</td>` +
        (showSensitivity
          ? row.sensitivityDropPoints === null
            ? `<td>${unavailableHtml(row.sensitivityReason)}</td>`
            : `<td class="num">${e(row.sensitivityDropPoints.toFixed(2))}</td>`
          : '') +
        '</tr>',
    )
    .join('');
  const note = showSensitivity
    ? ''
    : `<p class="note">Sensitivity: ${unavailableHtml(sensitivityReason)}</p>`;
  return `<section id="layers"><h2>Layers</h2><table><thead>${head}</thead><tbody>${body}</tbody></table>${note}</section>`;
}

function curveSeries(
  curves: TrainingCurve[],
  pick: 'accuracy' | 'loss',
): { series: LineSeries[]; markers: { x: number; label: string }[] } {
  const series: LineSeries[] = [];
  const markers: { x: number; label: string }[] = [];
  let offset = 0;
  curves.forEach((curve, index) => {
    const colour =
      curve.model === 'original' ? ORIGINAL_COLOUR : index > 1 ? paletteColour(index) : COMPRESSED_COLOUR;
    if (index > 0 && curve.epochs.length > 0) markers.push({ x: offset + 0.5, label: curve.stage });
    const scale = pick === 'accuracy' ? 100 : 1;
    const train = curve.epochs.map((point, i): [number, number] => [offset + i + 1, point[pick] * scale]);
    const validationKey = pick === 'accuracy' ? 'valAccuracy' : 'valLoss';
    const validation = curve.epochs
      .map((point, i): [number, number] | null =>
        point[validationKey] === null ? null : [offset + i + 1, point[validationKey]! * scale],
      )
      .filter((point): point is [number, number] => point !== null);
    series.push({ name: `${curve.stage}: training`, points: train, colour });
    if (validation.length > 0)
      series.push({ name: `${curve.stage}: validation`, points: validation, colour, dashed: true });
    offset += curve.epochs.length;
  });
  return { series, markers };
}

function trainingHtml(doc: ReportDocument): string {
  const curves = doc.training.curves.filter((curve) => curve.epochs.length > 0);
  if (curves.length === 0)
    return `<section id="training"><h2>Training curves</h2><p>${unavailableHtml(doc.training.reason)}</p></section>`;
  const accuracy = curveSeries(curves, 'accuracy');
  const loss = curveSeries(curves, 'loss');
  const epochsRows = curves
    .flatMap((curve) =>
      curve.epochs.map(
        (point) =>
          `<tr><td>${e(curve.stage)}</td><td class="num">${e(String(point.epoch))}</td><td class="num">${e(point.loss.toFixed(4))}</td><td class="num">${e(formatPercent(point.accuracy * 100))}</td>` +
          `<td class="num">${point.valAccuracy === null ? '—' : e(formatPercent(point.valAccuracy * 100))}</td><td class="num">${e(point.seconds.toFixed(1))} s</td>` +
          `<td class="num">${point.energyJoules === null ? unavailableHtml(point.energyReason) : `${e(formatJoules(point.energyJoules))}<br>${labelHtml(point.energyLabel)}`}</td></tr>`,
      ),
    )
    .join('');
  return (
    `<section id="training"><h2>Training curves</h2>` +
    `<figure>${lineChart({ title: 'Accuracy per epoch', xLabel: 'epoch (all stages in order)', yLabel: 'accuracy %', series: accuracy.series, markers: accuracy.markers, integerX: true })}</figure>` +
    `<figure>${lineChart({ title: 'Loss per epoch', xLabel: 'epoch (all stages in order)', yLabel: 'cross-entropy', series: loss.series, markers: loss.markers, integerX: true })}</figure>` +
    `<table><thead><tr><th>stage</th><th class="num">epoch</th><th class="num">loss</th><th class="num">accuracy</th><th class="num">validation accuracy</th><th class="num">time</th><th class="num">energy</th></tr></thead><tbody>${epochsRows}</tbody></table></section>`
  );
}

function sensitivityHtml(doc: ReportDocument): string {
  const section = doc.sensitivity;
  if (!section.available)
    return `<section id="sensitivity"><h2>Sensitivity</h2><p>${unavailableHtml(section.reason)}</p></section>`;
  const ratios = section.ratios ?? [];
  const series: LineSeries[] = (section.groups ?? []).map((group, index) => ({
    name: group.id,
    colour: paletteColour(index),
    points: group.accuracy.map((accuracy, i): [number, number] => [ratios[i]! * 100, accuracy * 100]),
  }));
  const chart = lineChart({
    title: `Accuracy with one channel group pruned, no fine-tuning (${section.criterion ?? ''})`,
    xLabel: 'channels removed from the group, %',
    yLabel: 'accuracy %',
    series,
    references: [{ y: (section.baselineAccuracy ?? 0) * 100, label: 'unpruned' }],
  });
  return `<section id="sensitivity"><h2>Sensitivity</h2><figure>${chart}<figcaption>From ${e(section.file ?? 'sensitivity.json')}: each group pruned on its own; steeper curves mark layers to prune less.</figcaption></figure></section>`;
}

function statHtml(stat: EnergyStat | null): string {
  if (!stat) return '<td>—</td>';
  if (stat.median === null) return `<td>${unavailableHtml(stat.reason)}</td>`;
  const spread =
    stat.values.length > 1 && stat.q1 !== null && stat.q3 !== null
      ? `<br><span class="spread">IQR ${e(formatJoules(stat.q1))}–${e(formatJoules(stat.q3))}, n=${e(String(stat.values.length))}</span>`
      : '';
  return `<td class="num">${e(formatJoules(stat.median))}${spread}</td>`;
}

function energyRowHtml(row: EnergyRow): string {
  const head = `<tr data-energy="${e(row.id)}"><td class="figure">${e(row.title)}<br><span class="note">${e(row.basis)}</span></td>`;
  const tail = `<td>${labelHtml(row.label, row.source)}${row.label === 'unavailable' ? '' : `<br><span class="note">${e(row.source)}</span>`}</td></tr>`;
  const bothMissing =
    row.before.median === null &&
    row.after !== null &&
    row.after.median === null &&
    row.after.reason === row.before.reason;
  if (bothMissing) return `${head}<td colspan="3">${unavailableHtml(row.before.reason)}</td>${tail}`;
  const factor =
    row.factor !== null
      ? `<td class="num">${e(formatFactor(row.factor))}</td>`
      : row.after === null || row.before.median === null || row.after.median === null
        ? '<td>—</td>'
        : `<td>${verdictHtml(row.verdict, row.reason) ?? unavailableHtml(row.reason)}</td>`;
  return head + statHtml(row.before) + statHtml(row.after) + factor + tail;
}

function energyChart(rows: EnergyRow[], grossInference: boolean): string {
  const skip = grossInference ? 'inference-net' : 'inference-gross';
  const pairs = rows
    .filter((row) => row.after !== null && !row.id.includes(':') && row.id !== skip)
    .filter((row) => row.before.median !== null || row.after!.median !== null)
    .map((row) => ({
      label: row.title,
      sublabel: row.label,
      before: row.before.median,
      after: row.after!.median,
      beforeText:
        row.before.median === null ? 'unavailable (see the table)' : formatJoules(row.before.median),
      afterText: row.after!.median === null ? 'unavailable (see the table)' : formatJoules(row.after!.median),
    }));
  if (pairs.length === 0) return '';
  return `<figure>${pairedBars({ title: 'Energy, original against compressed (each pair on its own scale)', pairs })}<figcaption>Each bar is labelled with how it was obtained; bars of different labels are never compared.</figcaption></figure>`;
}

function carbonHtml(doc: ReportDocument): string {
  const carbon = doc.energy.carbon;
  const value = (figure: { grams: number | null; reason?: string } | null): string =>
    figure === null
      ? '<td>—</td>'
      : figure.grams === null
        ? `<td>${unavailableHtml(figure.reason)}</td>`
        : `<td class="num">${e(formatGrams(figure.grams))}</td>`;
  if (carbon.reason !== undefined) {
    return `<h3>Carbon</h3><p>${unavailableHtml(carbon.reason)}</p><p class="note">PUE ${e(String(carbon.pue))}. Set a region with pollard report --grid-region (or POLLARD_GRID_REGION), or an intensity with --grid-intensity.</p>`;
  }
  const rows = carbon.rows
    .map((row) => `<tr><td>${e(row.title)}</td>${value(row.before)}${value(row.after)}</tr>`)
    .join('');
  return (
    `<h3>Carbon</h3><table><thead><tr><th>figure</th><th class="num">original</th><th class="num">compressed</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">Grid intensity: ${e(carbon.intensitySource)}; PUE ${e(String(carbon.pue))}. Set a region with pollard report --grid-region (or POLLARD_GRID_REGION), or an intensity with --grid-intensity.</p>`
  );
}

function energyHtml(doc: ReportDocument): string {
  const energy = doc.energy;
  const status =
    energy.status === 'recorded'
      ? ''
      : `<p>${unavailableHtml(energy.status === 'modelled-only' ? 'the compress run recorded only the modelled op-count energy, no measurements' : 'the compress run recorded no energy (it was made before Pollard measured compress runs)')}</p>`;
  const rows = energy.rows.map(energyRowHtml).join('');
  const idle =
    energy.idle && energy.idle.watts.length > 0
      ? `<h3>Idle power</h3><table><thead><tr><th>source</th><th class="num">idle power</th><th>how obtained</th></tr></thead><tbody>${energy.idle.watts
          .map(
            (source) =>
              `<tr><td>${e(source.id)}</td>${source.watts === null ? `<td>${unavailableHtml(source.reason)}</td>` : `<td class="num">${e(formatWatts(source.watts))}</td>`}<td>${labelHtml(source.label)}</td></tr>`,
          )
          .join(
            '',
          )}</tbody></table><p class="note">${e(energy.idle.notRecorded ? `Idle power ${energy.idle.notRecorded}.` : `Recorded over ${energy.idle.seconds.toFixed(1)} s before the measured runs.`)}</p>`
      : '';
  const sources =
    energy.sources.length > 0
      ? `<h3>Energy sources on the machine that ran it</h3><table><thead><tr><th>source</th><th>status</th><th>label</th><th>reads, or why not</th></tr></thead><tbody>${energy.sources
          .map(
            (source) =>
              `<tr><td>${e(source.name)}</td><td>${e(source.status)}</td><td>${labelHtml(source.label, source.detail)}</td><td>${source.status === 'open' ? e(source.detail) : unavailableHtml(source.detail)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  const realised =
    energy.realised.length > 0
      ? `<h3>What is realised on ${e(energy.backend)}, and what is modelled</h3><ul class="statements">${energy.realised.map((line) => `<li>${e(line)}</li>`).join('')}</ul>`
      : '';
  const methods = `<h3>Method</h3><ul class="statements">${energy.methodNotes.map((line) => `<li>${e(line)}</li>`).join('')}${
    energy.opCount ? `<li>Energy-per-operation table: ${e(energy.opCount.citation)}.</li>` : ''
  }</ul>`;
  const notes =
    energy.notes.length > 0
      ? `<ul class="statements warnings">${energy.notes.map((line) => `<li>${e(line)}</li>`).join('')}</ul>`
      : '';
  return (
    `<section id="energy"><h2>Energy</h2>${energyHeadlineHtml(energyHeadline(doc.kind, energy))}${status}` +
    `<p class="note">Every figure says how it was obtained: <b>measured by a hardware energy counter</b> (the GPU's or the CPU's; <code>measured:counter</code>), <b>measured: power sampled over time</b> (<code>measured:sampled</code>), <b>estimated: CPU power × CPU time or load</b> (the CPU's rated power; <code>modelled:tdp-load</code>), <b>estimated from operation counts</b> (MACs and bytes moved × energy per operation; <code>modelled:op-count</code>). A saving is computed only between figures obtained the same way, and only where the repeated figures do not overlap; otherwise the result is “no measurable difference”.</p>` +
    notes +
    energyChart(energy.rows, energy.idleSubtraction?.reliable === false) +
    `<table><thead><tr><th>figure</th><th class="num">original</th><th class="num">compressed</th><th class="num">original ÷ compressed</th><th>how obtained</th></tr></thead><tbody>${rows}</tbody></table>` +
    realised +
    idle +
    carbonHtml(doc) +
    sources +
    methods +
    `</section>`
  );
}

function environmentHtml(doc: ReportDocument): string {
  const env = doc.environment;
  const recorded =
    env.machineRecordedAt === 'run'
      ? 'recorded by the run'
      : 'this machine, when the report was made (the run did not record it)';
  const rows: [string, string][] = [
    ['backend', `${env.backend} (${env.device})`],
    ...env.rungs.map((rung): [string, string] => [
      `backend rung: ${rung.name}`,
      `${rung.status}${rung.detail ? `: ${rung.detail}` : ''}`,
    ]),
    ['CPU', `${env.cpu}${env.logicalCpus !== null ? `, ${env.logicalCpus} logical CPUs` : ''}`],
    ['memory', env.memoryGiB !== null ? `${env.memoryGiB} GiB` : 'unknown'],
    ['GPU', env.gpu],
    ['OS', env.os],
    ...Object.entries(env.versions).map(([name, version]): [string, string] => [name, version]),
  ];
  return `<section id="environment"><h2>Environment</h2><table><tbody>${rows.map(([name, value]) => `<tr><td>${e(name)}</td><td>${e(value)}</td></tr>`).join('')}</tbody></table><p class="note">CPU, memory, GPU and OS: ${e(recorded)}.</p></section>`;
}

function hashRow(name: string, record: HashRecord | null): string {
  if (!record) return '';
  const value =
    record.sha256 === null
      ? unavailableHtml(record.reason)
      : `<span class="mono">${e(record.sha256)}</span>${record.recordedAt === 'report' ? ' <span class="note">(computed when the report was made)</span>' : ''}`;
  return `<tr><td>${e(name)}</td><td>${record.path ? `<span class="mono">${e(record.path)}</span><br>` : ''}SHA-256 ${value}</td></tr>`;
}

function reproducibilityHtml(doc: ReportDocument): string {
  const r = doc.reproducibility;
  return (
    `<section id="reproducibility"><h2>Reproducibility</h2><table><tbody>` +
    `<tr><td>command</td><td>${r.command === null ? unavailableHtml('no command recorded (the run was not started from the command line)') : `<code>${e(r.command)}</code>`}</td></tr>` +
    `<tr><td>seed</td><td>${r.seed === null ? unavailableHtml('no run.json') : e(String(r.seed))}</td></tr>` +
    `<tr><td>Pollard version</td><td>${r.pollardVersion === null ? unavailableHtml('no run.json') : e(r.pollardVersion)} (report made with ${e(r.reportPollardVersion)})</td></tr>` +
    hashRow('dataset', r.dataset) +
    hashRow('original model', r.originalModel) +
    hashRow('compressed model', r.compressedModel) +
    `</tbody></table></section>`
  );
}

function literatureHtml(doc: ReportDocument): string {
  const literature = doc.literature;
  if (literature.rows.length === 0) {
    return `<section id="literature"><h2>Published results</h2><p>${e(literature.note)}</p></section>`;
  }
  const rows = literature.rows
    .map(
      (row) =>
        `<tr><td>${e(row.method)}</td><td>${e(row.model)}</td><td>${e(row.dataset)}</td><td>${e(row.metric)}: ${row.before ? `${e(row.before)} → ` : ''}${e(row.after)}</td><td>${e(row.reduction)}</td><td>${e(row.citation)}<br><span class="mono">${e(row.url)}</span></td></tr>`,
    )
    .join('');
  return (
    `<section id="literature"><h2>Published results${literature.match === 'closest' ? ' (closest published)' : ''}</h2><p>${e(literature.note)}</p>` +
    `<table><thead><tr><th>method</th><th>model</th><th>data</th><th>before → after</th><th>reduction</th><th>source</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">${e(literature.caution)}</p></section>`
  );
}

function notesHtml(doc: ReportDocument): string {
  if (doc.notes.length === 0) return '';
  return `<section id="notes"><h2>Notes</h2><ul class="statements">${doc.notes.map((note) => `<li>${e(note)}</li>`).join('')}</ul></section>`;
}

/** The whole report as one HTML document. */
export function renderReportHtml(doc: ReportDocument, options: HtmlOptions = {}): string {
  const paper = options.paper ? `@page { size: ${options.paper === 'a4' ? 'A4' : 'letter'}; }` : '';
  const created = doc.generator.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="generator" content="Pollard ${e(doc.generator.version)}">` +
    `<title>${e(doc.title)}</title><style>${CSS}${paper}</style></head><body>` +
    `<header><h1>${e(doc.title)}</h1>` +
    `<p class="meta">Run <span class="mono">${e(doc.run.dir)}</span> (${e(doc.run.kind)}${doc.model.architecture ? `, ${e(doc.model.architecture)}` : ''}) · report made ${e(created)} by Pollard ${e(doc.generator.version)} · JSON schema version ${e(String(doc.schemaVersion))}</p></header>` +
    summaryHtml(doc) +
    comparisonHtml(doc) +
    settingsHtml(doc) +
    layersHtml(doc) +
    trainingHtml(doc) +
    trainingSectionHtml(doc.trainingEnergy) +
    sensitivityHtml(doc) +
    energyHtml(doc) +
    environmentHtml(doc) +
    reproducibilityHtml(doc) +
    literatureHtml(doc) +
    notesHtml(doc) +
    `<footer>Made by Pollard ${e(doc.generator.version)} from the files in the run folder. Every energy figure carries its label; an unavailable figure is never shown as 0.</footer>` +
    `</body></html>\n`
  );
}
