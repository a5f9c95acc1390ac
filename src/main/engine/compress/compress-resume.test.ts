import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressSpecSchema } from '../../../shared/jobs';
import type { JobEventBody } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { writeIdx } from '../data/idx-writer';
import type { JobContext } from '../job/context';
import { createMemoryContext } from '../job/context';
import { saveModel } from '../model/tfjs-layers-writer';
import { tf } from '../tf';
import { Rng } from '../util/rng';
import { runCompress } from './compress-job';
import { sequentialCnn } from './test-models';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
/** Latency measured briefly: these tests check the records, not the timings. */
const FAST = { latency: { warmup: 1, runs: 3 } };
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-compress-resume-'));
  const rng = new Rng(4);
  const count = 64;
  const images = new Uint8Array(count * 64).map(() => rng.nextInt(256));
  const labels = new Uint8Array(count).map((_, i) => i % 3);
  await fs.mkdir(path.join(root, 'data'));
  await writeIdx(path.join(root, 'data'), 'train', { images, labels, count }, [8, 8, 1]);
  await fs.writeFile(path.join(root, 'data', 'classes.txt'), 'a\nb\nc\n');
  const model = sequentialCnn();
  await saveModel(model, path.join(root, 'model'));
  model.dispose();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A context that cancels at the first batch of the named fine-tuning stage. */
function cancellingAt(stage: string): JobContext & { events: JobEventBody[] } {
  const ctx = createMemoryContext(BACKEND);
  let armed = false;
  const emit = ctx.emit;
  ctx.emit = (event) => {
    emit(event);
    if (event.type === 'stage') armed = event.stage === stage;
    if (armed && event.type === 'batch') ctx.cancel();
  };
  return ctx;
}

describe('resuming a compress run', () => {
  it('continues an iterative structured run after the last completed step', async () => {
    const spec = compressSpecSchema.parse({
      kind: 'compress',
      model: path.join(root, 'model'),
      data: path.join(root, 'data'),
      out: path.join(root, 'run'),
      method: 'structured',
      targetMacs: 0.5,
      steps: 2,
      finetuneEpochs: 1,
      batchSize: 8,
      training: { validationSplit: 0.25 },
      energy: { measure: false },
    });
    await expect(runCompress(spec, cancellingAt('fine-tune 2/2'), FAST)).rejects.toThrow(
      'cancelled by the user',
    );
    const progress = JSON.parse(await fs.readFile(path.join(spec.out, 'progress.json'), 'utf8')) as {
      completedSteps: number;
    };
    expect(progress.completedSteps).toBe(1);
    await fs.access(path.join(spec.out, 'steps', 'step-1', 'model.json'));

    const ctx = createMemoryContext(BACKEND);
    const result = await runCompress({ ...spec, resume: true }, ctx, FAST);
    expect(ctx.events).toContainEqual({
      type: 'log',
      level: 'info',
      message: 'resuming after pruning step 1 of 2',
    });
    expect(result.structured!.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(result.fineTune.map((f) => [f.stage, f.epochs])).toEqual([
      ['fine-tune 1/2', 1],
      ['fine-tune 2/2', 1],
    ]);
    expect(result.after.macs).toBeLessThanOrEqual(result.before.macs * 0.5);
    await expect(fs.access(path.join(spec.out, 'steps'))).rejects.toThrow();
  });
});
