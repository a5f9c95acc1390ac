/**
 * The report's main comparison table as CSV (RFC 4180: comma separated, CRLF line ends, fields
 * quoted where they hold a comma, a quote or a line break). Numbers are written in full
 * precision and without units; an unavailable figure is an empty cell, and its label column
 * says `unavailable: <reason>`.
 */
import type { ReportDocument } from './report-types';

export const CSV_HEADER = ['metric', 'unit', 'before', 'after', 'change', 'change_unit', 'label', 'source'];

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function number(value: number | null): string {
  return value === null ? '' : String(value);
}

export function renderReportCsv(doc: ReportDocument): string {
  const lines = [CSV_HEADER.join(',')];
  for (const row of doc.comparison) {
    const missing = row.before === null || row.after === null || row.change === null;
    const label =
      row.reason === undefined || !missing
        ? row.label
        : row.label === 'unavailable'
          ? `unavailable: ${row.reason}`
          : `${row.label} (unavailable: ${row.reason})`;
    lines.push(
      [
        row.metric,
        row.unit,
        number(row.before),
        number(row.after),
        number(row.change),
        row.changeUnit,
        label,
        row.source ?? '',
      ]
        .map(field)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}
