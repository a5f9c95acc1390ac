/**
 * Small inline SVG charts for the self-contained report: line charts (training curves,
 * sensitivity) and paired bars (energy, original against compressed). No scripts, no fonts to
 * fetch; every text is escaped; the viewBox scales to the page width, so they print as vectors.
 */
import { escapeHtml } from './escape';

export const ORIGINAL_COLOUR = '#6b7280';
export const COMPRESSED_COLOUR = '#1d4ed8';
const PALETTE = ['#1d4ed8', '#b45309', '#047857', '#9333ea', '#be123c', '#0e7490', '#4d7c0f', '#6b7280'];

export function paletteColour(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  colour: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Vertical markers, e.g. where fine-tuning starts. */
  markers?: { x: number; label: string }[];
  /** Horizontal reference lines, e.g. the unpruned accuracy. */
  references?: { y: number; label: string }[];
  /** Integer ticks on the x axis (epochs). */
  integerX?: boolean;
  width?: number;
  height?: number;
}

const fmt = (value: number): string => String(Math.round(value * 100) / 100);

/** Tick values covering [min, max] at a 1/2/5 × 10^k step. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = Math.floor(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Math.round(tick / step) * step);
  }
  if (ticks[ticks.length - 1]! < max) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

function tickText(value: number): string {
  const rounded = Math.round(value * 1e6) / 1e6;
  return String(rounded);
}

export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const margin = { left: 56, right: 16, top: 28, bottom: 40 };
  const legendRows = Math.ceil(options.series.length / 2);
  const legendHeight = legendRows * 16 + 6;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = options.series.flatMap((series) => series.points.map(([x]) => x));
  const ys = [
    ...options.series.flatMap((series) => series.points.map(([, y]) => y)),
    ...(options.references ?? []).map((reference) => reference.y),
  ];
  const title = `<text x="${margin.left}" y="16" class="chart-title">${escapeHtml(options.title)}</text>`;
  if (xs.length === 0) {
    return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}" xmlns="http://www.w3.org/2000/svg">${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="chart-note">no data</text></svg>`;
  }
  let xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 6);
  if (options.integerX) {
    const low = Math.min(...xs);
    const high = Math.max(...xs);
    const step = Math.max(1, Math.ceil((high - low) / 8));
    xTicks = [];
    for (let x = low; x <= high; x += step) xTicks.push(x);
  }
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const xMin = Math.min(xTicks[0]!, ...xs);
  const xMax = Math.max(xTicks[xTicks.length - 1]!, ...xs);
  const yMin = yTicks[0]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const sx = (x: number): number =>
    margin.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number): number =>
    margin.top + plotH - (yMax === yMin ? plotH / 2 : ((y - yMin) / (yMax - yMin)) * plotH);

  const parts: string[] = [title];
  for (const tick of yTicks) {
    const y = fmt(sy(tick));
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" class="grid"/>`,
      `<text x="${margin.left - 6}" y="${y}" dy="0.32em" text-anchor="end" class="tick">${escapeHtml(tickText(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = fmt(sx(tick));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" class="axis"/>`,
      `<text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle" class="tick">${escapeHtml(tickText(tick))}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" class="axis"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" class="axis"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="axis-label">${escapeHtml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(options.yLabel)}</text>`,
  );
  for (const reference of options.references ?? []) {
    const y = fmt(sy(reference.y));
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" class="reference"/>`,
      `<text x="${margin.left + plotW - 4}" y="${y}" dy="-0.35em" text-anchor="end" class="chart-note">${escapeHtml(reference.label)}</text>`,
    );
  }
  for (const marker of options.markers ?? []) {
    const x = fmt(sx(marker.x));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" class="reference"/>`,
      `<text x="${x}" y="${margin.top - 4}" text-anchor="middle" class="chart-note">${escapeHtml(marker.label)}</text>`,
    );
  }
  for (const series of options.series) {
    if (series.points.length === 0) continue;
    const path = series.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${fmt(sx(x))} ${fmt(sy(y))}`)
      .join(' ');
    const dash = series.dashed ? ' stroke-dasharray="5 3"' : '';
    parts.push(`<path d="${path}" fill="none" stroke="${series.colour}" stroke-width="2"${dash}/>`);
    for (const [x, y] of series.points) {
      parts.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="2.5" fill="${series.colour}"/>`);
    }
  }
  const legend = options.series
    .map((series, index) => {
      const column = index % 2;
      const row = Math.floor(index / 2);
      const x = margin.left + column * (plotW / 2);
      const y = height + row * 16 + 10;
      const dash = series.dashed ? ' stroke-dasharray="5 3"' : '';
      return (
        `<line x1="${fmt(x)}" x2="${fmt(x + 18)}" y1="${y}" y2="${y}" stroke="${series.colour}" stroke-width="2"${dash}/>` +
        `<text x="${fmt(x + 22)}" y="${y}" dy="0.32em" class="legend">${escapeHtml(series.name)}</text>`
      );
    })
    .join('');
  const totalHeight = height + legendHeight;
  return `<svg class="chart" viewBox="0 0 ${width} ${totalHeight}" role="img" aria-label="${escapeHtml(options.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}${legend}</svg>`;
}

export interface BarPair {
  label: string;
  /** A second, smaller line under the label (e.g. how the figure was obtained). */
  sublabel?: string;
  before: number | null;
  after: number | null;
  beforeText: string;
  afterText: string;
}

/**
 * Original against compressed for several figures of different units and scales: each pair is
 * scaled to its own larger value, and the values are written beside the bars.
 */
export function pairedBars(options: { title: string; pairs: BarPair[]; width?: number }): string {
  const width = options.width ?? 640;
  const labelW = 200;
  const valueW = 150;
  const barW = width - labelW - valueW - 16;
  const rowH = 40;
  const top = 28;
  const height = top + options.pairs.length * rowH + 22;
  const parts: string[] = [`<text x="0" y="16" class="chart-title">${escapeHtml(options.title)}</text>`];
  options.pairs.forEach((pair, index) => {
    const y = top + index * rowH;
    const scale = Math.max(pair.before ?? 0, pair.after ?? 0);
    parts.push(`<text x="0" y="${y + 12}" class="legend">${escapeHtml(pair.label)}</text>`);
    if (pair.sublabel)
      parts.push(`<text x="0" y="${y + 26}" class="chart-note">${escapeHtml(pair.sublabel)}</text>`);
    const bar = (value: number | null, text: string, offset: number, colour: string): void => {
      const w = value !== null && scale > 0 ? Math.max(1, (value / scale) * barW) : 0;
      if (w > 0) {
        parts.push(`<rect x="${labelW}" y="${y + offset}" width="${fmt(w)}" height="12" fill="${colour}"/>`);
      }
      parts.push(
        `<text x="${fmt(labelW + (w > 0 ? w : 0) + 6)}" y="${y + offset + 6}" dy="0.32em" class="${value === null ? 'chart-note' : 'tick'}">${escapeHtml(text)}</text>`,
      );
    };
    bar(pair.before, pair.beforeText, 2, ORIGINAL_COLOUR);
    bar(pair.after, pair.afterText, 17, COMPRESSED_COLOUR);
  });
  const legendY = height - 8;
  parts.push(
    `<rect x="${labelW}" y="${legendY - 8}" width="12" height="10" fill="${ORIGINAL_COLOUR}"/>`,
    `<text x="${labelW + 16}" y="${legendY}" class="legend">original</text>`,
    `<rect x="${labelW + 90}" y="${legendY - 8}" width="12" height="10" fill="${COMPRESSED_COLOUR}"/>`,
    `<text x="${labelW + 106}" y="${legendY}" class="legend">compressed</text>`,
  );
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
