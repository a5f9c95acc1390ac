import { describe, expect, it } from 'vitest';
import type { JobEvent, JobEventBody } from '../../../shared/jobs';
import { trainResultFixture } from '../../../shared/testing/result-fixtures';
import { appendPoint, applyJobEvent, emptyJobModel, MAX_HISTORY_POINTS, MAX_LOG_LINES } from './job-model';
import { SeqWindow } from './seq-window';

let clock = 1_000;
const ev = (seq: number, body: JobEventBody): JobEvent => ({ ...body, seq, time: (clock += 10) }) as JobEvent;

const started = ev(0, {
  type: 'started',
  kind: 'train',
  backend: { used: 'wasm', device: 'SIMD, 2 threads', rungs: [] },
  runDir: '/runs/train-1',
  pid: 42,
  versions: {},
});
const batch = (seq: number, epoch: number, b: number, loss: number): JobEvent =>
  ev(seq, {
    type: 'batch',
    epoch,
    epochs: 2,
    batch: b,
    batches: 4,
    loss,
    accuracy: 1 - loss,
    samplesPerSecond: 800,
    etaSeconds: 12,
    energy: { watts: 30, total: { joules: 5, label: 'modelled:tdp-load', source: 'TDP table' } },
  });

describe('applyJobEvent', () => {
  it('follows a training job from start to result', () => {
    const model = emptyJobModel('job-1');
    expect(applyJobEvent(model, started)).toBe(true);
    expect(model.phase).toBe('running');
    expect(model.kind).toBe('train');
    expect(model.backend?.used).toBe('wasm');
    expect(model.runDir).toBe('/runs/train-1');

    applyJobEvent(model, batch(1, 1, 2, 0.8));
    expect(model.batch).toEqual({ epoch: 1, epochs: 2, batch: 2, batches: 4, samplesPerSecond: 800 });
    expect(model.fraction).toBe(0.25);
    expect(model.etaSeconds).toBe(12);
    expect(model.loss).toEqual([{ x: 0.5, y: 0.8 }]);
    expect(model.accuracy[0]!.y).toBeCloseTo(0.2, 12);
    expect(model.power).toEqual([{ x: 0.5, y: 30 }]);
    expect(model.energy?.total.joules).toBe(5);

    applyJobEvent(
      model,
      ev(2, {
        type: 'epoch',
        epoch: 1,
        epochs: 2,
        loss: 0.7,
        accuracy: 0.3,
        valLoss: 0.65,
        valAccuracy: 0.4,
        learningRate: 0.001,
        seconds: 3,
        samplesPerSecond: 812.4,
      }),
    );
    expect(model.valAccuracy).toEqual([{ x: 1, y: 0.4 }]);
    expect(model.logs.at(-1)?.message).toBe(
      'epoch 1/2: loss 0.7000, accuracy 30.00%, validation 40.00%, 812 samples/s',
    );

    const result = trainResultFixture({ accuracy: 0.41, runDir: '/runs/train-1b' });
    applyJobEvent(model, ev(3, { type: 'result', result }));
    expect(model.phase).toBe('completed');
    expect(model.fraction).toBe(1);
    expect(model.result).toEqual(result);
    expect(model.runDir).toBe('/runs/train-1b');
  });

  it('ignores replayed events, also when host-numbered log lines came in between', () => {
    const model = emptyJobModel('job-2');
    applyJobEvent(model, started);
    applyJobEvent(model, ev(1_000_000_000, { type: 'log', level: 'warn', message: 'stderr line' }));
    applyJobEvent(model, batch(1, 1, 1, 0.9));
    const losses = model.loss;
    // A reconnect replays everything buffered: nothing may be applied twice.
    expect(applyJobEvent(model, started)).toBe(false);
    expect(applyJobEvent(model, batch(1, 1, 1, 0.9))).toBe(false);
    expect(
      applyJobEvent(model, ev(1_000_000_000, { type: 'log', level: 'warn', message: 'stderr line' })),
    ).toBe(false);
    expect(model.loss).toBe(losses);
    expect(model.logs.map((l) => l.message)).toEqual([
      'started train on wasm (SIMD, 2 threads)',
      'stderr line',
    ]);
    // The host's crash report comes after the last event.
    applyJobEvent(
      model,
      ev(2, { type: 'error', error: { code: 'crash', message: 'the job process stopped' } }),
    );
    expect(model.phase).toBe('failed');
    expect(model.error?.code).toBe('crash');
  });

  it('records a cancel with where it stopped', () => {
    const model = emptyJobModel('job-3');
    applyJobEvent(model, started);
    applyJobEvent(model, ev(1, { type: 'cancelled', epoch: 1, batch: 3 }));
    expect(model.phase).toBe('cancelled');
    expect(model.logs.at(-1)).toMatchObject({ level: 'warn', message: 'cancelled at epoch 1, batch 3' });
  });

  it("starts each stage without the previous stage's progress", () => {
    const model = emptyJobModel('job-6', 'compress');
    applyJobEvent(model, ev(0, { type: 'stage', stage: 'fine-tune' }));
    applyJobEvent(model, batch(1, 2, 4, 0.5));
    expect(model.fraction).toBe(1);
    applyJobEvent(model, ev(2, { type: 'stage', stage: 'fine-tune', detail: 'same stage, more detail' }));
    expect(model.fraction).toBe(1);
    applyJobEvent(model, ev(3, { type: 'stage', stage: 'evaluate-after' }));
    expect(model.fraction).toBeNull();
    expect(model.etaSeconds).toBeNull();
    expect(model.batch?.batch).toBe(4);
  });

  it('uses progress events for jobs without batches', () => {
    const model = emptyJobModel('job-4', 'sensitivity');
    applyJobEvent(
      model,
      ev(0, { type: 'progress', stage: 'sensitivity', done: 3, total: 12, etaSeconds: 9 }),
    );
    expect(model.fraction).toBe(0.25);
    expect(model.stage).toBe('sensitivity');
    expect(model.etaSeconds).toBe(9);
  });

  it('bounds histories and logs', () => {
    let history = [{ x: 0, y: 0 }];
    for (let i = 1; i <= MAX_HISTORY_POINTS * 3; i++) history = appendPoint(history, { x: i, y: i });
    expect(history.length).toBeLessThanOrEqual(MAX_HISTORY_POINTS);
    expect(history.length).toBeGreaterThan(MAX_HISTORY_POINTS / 2);
    expect(history.at(-1)).toEqual({ x: MAX_HISTORY_POINTS * 3, y: MAX_HISTORY_POINTS * 3 });
    expect(history[0]).toEqual({ x: 0, y: 0 });

    const model = emptyJobModel('job-5');
    for (let i = 0; i < MAX_LOG_LINES + 20; i++)
      applyJobEvent(model, ev(i, { type: 'log', level: 'info', message: `line ${i}` }));
    expect(model.logs.length).toBe(MAX_LOG_LINES);
    expect(model.logs[0]!.message).toBe('line 20');
  });
});

describe('SeqWindow', () => {
  it('remembers out-of-order seqs and compacts the contiguous prefix', () => {
    const seen = new SeqWindow();
    expect(seen.add(2)).toBe(true);
    expect(seen.add(0)).toBe(true);
    expect(seen.add(2)).toBe(false);
    expect(seen.add(1)).toBe(true);
    expect(seen.add(1)).toBe(false);
    expect(seen.add(0)).toBe(false);
    expect(seen.add(1_000_000_000)).toBe(true);
    expect(seen.add(1_000_000_000)).toBe(false);
    expect(seen.size).toBe(4);
  });
});
