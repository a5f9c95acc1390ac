import { describe, expect, it } from 'vitest';
import type { JobMessage } from '../../shared/api';
import { ioError } from '../../shared/errors';
import { jobSpecSchema, type JobSpec } from '../../shared/jobs';
import { trainResultFixture } from '../../shared/testing/result-fixtures';
import { JobQueue, type JobRunner } from './job-queue';
import { runJob } from './jobs';
import {
  completes,
  fakeLauncher,
  type FakeScript,
  ignoresCancel,
  runsUntilCancelled,
  started,
} from './testing/fake-launcher';

const spec = (name: string): JobSpec =>
  jobSpecSchema.parse({ kind: 'evaluate', model: `/m/${name}`, data: '/d' });

function queueWith(script: FakeScript, options: { graceMs?: number; replayLimit?: number } = {}) {
  const launched: JobSpec[] = [];
  const launcher = fakeLauncher(script, launched);
  const runner: JobRunner = (s, hooks) =>
    runJob(s, { ...hooks, launcher, graceMs: options.graceMs ?? 5_000 });
  const queue = new JobQueue({
    runner,
    ...(options.replayLimit !== undefined ? { replayLimit: options.replayLimit } : {}),
  });
  const messages: JobMessage[] = [];
  queue.subscribe((m) => messages.push(m));
  return { queue, launched, messages };
}

describe('JobQueue', () => {
  it('runs one job at a time, in order, and reports queue positions', async () => {
    const gates = new Map<string, () => void>();
    const { queue, launched } = queueWith(async (job) => {
      started(job);
      await new Promise<void>((resolve) => gates.set((job.spec as { model: string }).model, resolve));
      job.emit({
        type: 'result',
        result: trainResultFixture({ modelPath: (job.spec as { model: string }).model }),
      });
      job.exit(0);
    });
    const a = queue.enqueue(spec('a'));
    const b = queue.enqueue(spec('b'));
    const c = queue.enqueue(spec('c'));
    expect([a.state, b.state, c.state]).toEqual(['running', 'queued', 'queued']);
    expect([b.queuePosition, c.queuePosition]).toEqual([0, 1]);
    await expect.poll(() => gates.size).toBe(1);
    expect(launched.map((s) => (s as { model: string }).model)).toEqual(['/m/a']);
    gates.get('/m/a')!();
    await queue.waitFor(a.jobId);
    await expect.poll(() => gates.size).toBe(2);
    expect(
      queue.list().map((j) => [j.spec.kind === 'evaluate' && j.spec.model, j.state, j.queuePosition]),
    ).toEqual([
      ['/m/b', 'running', undefined],
      ['/m/c', 'queued', 0],
      ['/m/a', 'completed', undefined],
    ]);
    gates.get('/m/b')!();
    await queue.waitFor(b.jobId);
    await expect.poll(() => gates.size).toBe(3);
    gates.get('/m/c')!();
    const done = await queue.waitFor(c.jobId);
    expect(done.state).toBe('completed');
    expect(done.result).toEqual(trainResultFixture({ modelPath: '/m/c' }));
    expect(launched.map((s) => (s as { model: string }).model)).toEqual(['/m/a', '/m/b', '/m/c']);
  });

  it('cancels a queued job without starting it, with a cancelled event', async () => {
    const { queue, launched, messages } = queueWith(runsUntilCancelled());
    const first = queue.enqueue(spec('first'));
    const second = queue.enqueue(spec('second'));
    queue.cancel(second.jobId);
    expect(queue.status(second.jobId)?.state).toBe('cancelled');
    expect(messages.filter((m) => m.jobId === second.jobId).map((m) => m.event.type)).toEqual(['cancelled']);
    queue.cancel(first.jobId);
    expect((await queue.waitFor(first.jobId)).state).toBe('cancelled');
    expect(launched).toHaveLength(1);
  });

  it('cancels a running job softly: the job stops at its boundary and says so', async () => {
    const { queue, messages } = queueWith(runsUntilCancelled());
    const job = queue.enqueue(spec('x'));
    await expect.poll(() => messages.length).toBeGreaterThanOrEqual(2);
    queue.cancel(job.jobId);
    expect((await queue.waitFor(job.jobId)).state).toBe('cancelled');
    expect(messages.map((m) => m.event.type)).toEqual(['started', 'stage', 'cancelled']);
    expect(messages.at(-1)?.event).toMatchObject({ type: 'cancelled', epoch: 1, batch: 3 });
  });

  it('kills a job that ignores the soft cancel after the grace period', async () => {
    const { queue, messages } = queueWith(ignoresCancel(), { graceMs: 50 });
    const job = queue.enqueue(spec('stuck'));
    await expect.poll(() => messages.length).toBe(1);
    const t0 = Date.now();
    queue.cancel(job.jobId);
    expect((await queue.waitFor(job.jobId)).state).toBe('cancelled');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(messages.map((m) => m.event.type)).toEqual(['started', 'cancelled']);
  });

  it('replays started, stage and epoch events plus the last N others, in arrival order, while the job runs', async () => {
    const { queue } = queueWith(
      async (job) => {
        started(job);
        for (let epoch = 1; epoch <= 2; epoch++) {
          for (let batch = 1; batch <= 5; batch++) {
            job.emit({
              type: 'batch',
              epoch,
              epochs: 2,
              batch,
              batches: 5,
              loss: 1,
              accuracy: 0.5,
              samplesPerSecond: 10,
              etaSeconds: 1,
            });
          }
          job.emit({
            type: 'epoch',
            epoch,
            epochs: 2,
            loss: 1,
            accuracy: 0.5,
            learningRate: 0.1,
            seconds: 1,
            samplesPerSecond: 10,
          });
        }
        job.emit({ type: 'log', level: 'info', message: 'still going' });
        await job.cancelled;
        job.emit({ type: 'cancelled' });
        job.exit(0);
      },
      { replayLimit: 3 },
    );
    const job = queue.enqueue(spec('r'));
    const waiting = queue.enqueue(spec('w'));
    await expect.poll(() => queue.replay().length).toBe(6);
    const replay = queue.replay();
    expect(replay.every((m) => m.jobId === job.jobId)).toBe(true);
    expect(
      replay.map((m) => (m.event.type === 'batch' ? `b${m.event.epoch}.${m.event.batch}` : m.event.type)),
    ).toEqual(['started', 'epoch', 'b2.4', 'b2.5', 'epoch', 'log']);
    queue.cancel(waiting.jobId);
    queue.cancel(job.jobId);
    await queue.waitFor(job.jobId);
    expect(queue.replay()).toEqual([]);
  });

  it('reports a job that cannot start as failed, with an error event', async () => {
    const messages: JobMessage[] = [];
    const queue = new JobQueue({
      runner: () => Promise.reject(ioError('/runs/x', 'could not create the run folder: permission denied')),
    });
    queue.subscribe((m) => messages.push(m));
    const job = queue.enqueue(spec('x'));
    const done = await queue.waitFor(job.jobId);
    expect(done.state).toBe('failed');
    expect(done.error?.message).toBe('/runs/x: could not create the run folder: permission denied');
    expect(messages.map((m) => m.event.type)).toEqual(['error']);
  });

  it('keeps delivering to other subscribers when one throws, and stops after unsubscribe', async () => {
    const { queue } = queueWith(completes(trainResultFixture({ accuracy: 0.9 }), 2));
    const seen: string[] = [];
    queue.subscribe(() => {
      throw new Error('window closed');
    });
    const unsubscribe = queue.subscribe((m) => seen.push(m.event.type));
    const job = queue.enqueue(spec('a'));
    await queue.waitFor(job.jobId);
    expect(seen).toEqual(['started', 'epoch', 'epoch', 'result']);
    unsubscribe();
    await queue.waitFor(queue.enqueue(spec('b')).jobId);
    expect(seen).toHaveLength(4);
  });

  it('refuses to cancel a job it does not know', () => {
    const { queue } = queueWith(completes(trainResultFixture()));
    expect(() => queue.cancel('nope')).toThrow('cancelJob: no job nope in this session');
  });
});
