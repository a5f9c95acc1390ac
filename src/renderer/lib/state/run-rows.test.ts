import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../shared/api';
import { comparisonRows, formatRunDate, runRow } from './run-rows';

function summary(overrides: Partial<RunSummary>): RunSummary {
  return {
    dir: '/runs/a',
    id: 'a',
    kind: 'compress',
    status: 'completed',
    interrupted: false,
    resumable: false,
    createdAt: '2026-03-04T05:06:07.000Z',
    updatedAt: '2026-03-04T05:10:00.000Z',
    headline: {},
    ...overrides,
  };
}

const COMPRESS = summary({
  headline: {
    method: 'structured',
    backend: 'wasm',
    accuracyBefore: 0.855,
    accuracy: 0.85,
    macsRatio: 0.4841,
    sizeRatio: 0.25,
    energySaving: 0.4,
    samplesPerSecond: 1011.848902898728,
  },
});

describe('recent runs rows', () => {
  it('reads a date as YYYY-MM-DD HH:MM in local time', () => {
    const local = new Date(2026, 2, 4, 5, 6, 7).toISOString();
    expect(formatRunDate(local)).toBe('2026-03-04 05:06');
    expect(formatRunDate('not a date')).toBe('—');
  });

  it('turns a compress headline into words and percentages', () => {
    expect(runRow(COMPRESS)).toEqual({
      dir: '/runs/a',
      method: 'Structured pruning',
      date: formatRunDate('2026-03-04T05:06:07.000Z'),
      status: 'completed',
      accuracy: '85.50% → 85.00%',
      accuracyChange: '−0.50 pts',
      macsCut: '51.6%',
      energySaved: '40.0%',
      damaged: null,
    });
  });

  it('says a cost, a verdict, or a dash, never a raw key', () => {
    expect(runRow(summary({ headline: { energySaving: -0.05 } })).energySaved).toBe('costlier by 5.0%');
    expect(runRow(summary({ headline: { energyVerdict: 'no measurable difference' } })).energySaved).toBe(
      'no measurable difference',
    );
    const train = runRow(
      summary({ kind: 'train', headline: { accuracy: 0.8645, samplesPerSecond: 1011.8 } }),
    );
    expect(train).toMatchObject({ method: 'train', accuracy: '86.45%', macsCut: '—', energySaved: '—' });
    expect(runRow(summary({ interrupted: true, status: 'running' })).status).toBe('interrupted');
  });

  it('marks a damaged run with its reason', () => {
    const row = runRow(
      summary({ kind: 'unknown', status: 'damaged', damaged: '/runs/x/run.json: is not valid JSON' }),
    );
    expect(row).toMatchObject({ method: 'damaged run', status: 'damaged', accuracy: '—' });
    expect(row.damaged).toBe('/runs/x/run.json: is not valid JSON');
  });

  it('compares two runs side by side', () => {
    const other = summary({
      dir: '/runs/b',
      headline: {
        method: 'quantize',
        accuracyBefore: 0.855,
        accuracy: 0.854,
        sizeRatio: 0.26,
        energyVerdict: 'no measurable difference',
      },
    });
    expect(comparisonRows(COMPRESS, other)).toEqual([
      { label: 'Method', values: ['Structured pruning', 'Quantization'] },
      { label: 'Started', values: [runRow(COMPRESS).date, runRow(other).date] },
      { label: 'Status', values: ['completed', 'completed'] },
      { label: 'Accuracy before', values: ['85.50%', '85.50%'] },
      { label: 'Accuracy after', values: ['85.00%', '85.40%'] },
      { label: 'Accuracy change', values: ['−0.50 pts', '−0.10 pts'] },
      { label: 'MACs cut', values: ['51.6%', '—'] },
      { label: 'File size cut', values: ['75.0%', '74.0%'] },
      { label: 'Inference energy saved', values: ['40.0%', 'no measurable difference'] },
      { label: 'Backend', values: ['wasm', '—'] },
    ]);
  });
});
