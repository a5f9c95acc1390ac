/**
 * The shared-memory handshake between rank 0 and a replica: requests and answers travel through
 * one SharedArrayBuffer, in order, with a failure's message and kind intact; rank 0 stops
 * waiting when the thread it waits for has failed.
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL_BYTES, StepChannel } from './step-channel';

describe('StepChannel', () => {
  it('carries a request to the replica and its outcome back, numbered in order', async () => {
    const rank0 = StepChannel.create();
    const replica = new StepChannel(rank0.buffer);
    const after = replica.lastRequest;
    expect(after).toBe(0);
    const seq = rank0.post({ kind: 'step', size: 32, microBatch: 16, batchSize: 64 });
    expect(seq).toBe(1);
    expect(rank0.isDone(seq)).toBe(false);
    expect(replica.next(after)).toEqual({
      seq: 1,
      request: { kind: 'step', size: 32, microBatch: 16, batchSize: 64 },
    });
    replica.answer(seq, { lossSum: 73.25, correct: 17, finite: false });
    expect(rank0.isDone(seq)).toBe(true);
    await expect(rank0.waitFor(seq, () => undefined)).resolves.toEqual({
      lossSum: 73.25,
      correct: 17,
      finite: false,
    });
    const second = rank0.post({ kind: 'release', size: 0, microBatch: 0, batchSize: 0 });
    expect(replica.next(seq)).toEqual({
      seq: 2,
      request: { kind: 'release', size: 0, microBatch: 0, batchSize: 0 },
    });
    expect(second).toBe(2);
  });

  it("returns the replica's failure with its message and whether it was a WebAssembly abort", async () => {
    const rank0 = StepChannel.create();
    const replica = new StepChannel(rank0.buffer);
    const seq = rank0.post({ kind: 'predict', size: 5, microBatch: 0, batchSize: 0 });
    replica.answer(seq, { message: 'Aborted(). Build with -sASSERTIONS — heap exhausted', abort: true });
    await expect(rank0.waitFor(seq, () => undefined)).resolves.toEqual({
      message: 'Aborted(). Build with -sASSERTIONS — heap exhausted',
      abort: true,
    });
    const next = rank0.post({ kind: 'step', size: 1, microBatch: 1, batchSize: 2 });
    replica.answer(next, { message: 'x'.repeat(5000), abort: false });
    const long = await rank0.waitFor(next, () => undefined);
    expect(long).toEqual({ message: 'x'.repeat(4096), abort: false });
  });

  it('stops waiting with the thread failure once the replica cannot answer', async () => {
    const rank0 = StepChannel.create();
    const seq = rank0.post({ kind: 'step', size: 8, microBatch: 8, batchSize: 16 });
    const exited = new Error('replica 1 exited (code 1)');
    await expect(rank0.waitFor(seq, () => exited)).rejects.toBe(exited);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => new StepChannel(new SharedArrayBuffer(64))).toThrow(
      `step channel: 64 bytes, expected ${CHANNEL_BYTES}`,
    );
  });
});
