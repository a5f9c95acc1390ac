import { describe, expect, it } from 'vitest';
import { type ModelRecord, realisedNotes, recalibrationNote } from './compress-job';

const record = (latency1: number, latency32: number, macs: number): ModelRecord => ({
  accuracy: 0.9,
  params: 1000,
  macs,
  sizeBytes: 4000,
  sizeGzipBytes: 3600,
  latencyMs: { batch1: latency1, batch32: latency32 },
  weightDtype: 'float32',
});

describe('realisedNotes', () => {
  it('divides latencies below 1 ms as measured (0.40 / 0.367 ms is 1.09×, not 0.40×)', () => {
    const [note] = realisedNotes(
      'structured',
      'wasm',
      record(0.4, 4.2, 2_000_000),
      record(0.367, 3.5, 1_000_000),
    );
    expect(note).toContain('2.00× fewer MACs');
    expect(note).toContain('1.20× speedup at batch 32, 1.09× at batch 1');
  });

  it('shows a dash, not a ratio, when the compressed figure is 0', () => {
    const [note] = realisedNotes('structured', 'wasm', record(0.4, 4, 100), record(0, 4, 50));
    expect(note).toContain('1.00× speedup at batch 32, — at batch 1');
  });
});

describe('recalibrationNote', () => {
  it('states the samples really used: 126 of a 126-sample training split, 1024 of a larger one', () => {
    expect(recalibrationNote(126, 'pruning', 0.8512)).toBe(
      'BatchNormalization statistics of the compressed model were re-estimated on 126 training samples after pruning (adaptive BN); the original model is evaluated as given, and scores 85.12% with its statistics re-estimated the same way',
    );
    expect(recalibrationNote(60_000, 'fine-tuning', 0.9)).toContain(
      're-estimated on 1024 training samples after fine-tuning',
    );
  });
});
