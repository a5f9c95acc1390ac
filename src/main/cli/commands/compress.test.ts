import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../../shared/jobs';
import { buildProgram } from '../main';

/** The spec a command line builds, without running it. */
async function specOf(argv: string[]): Promise<JobSpec> {
  let built: JobSpec | undefined;
  const program = buildProgram(
    (spec) => {
      built = spec;
      return Promise.resolve(0);
    },
    () => undefined,
  );
  await program.parseAsync(argv, { from: 'user' });
  return built!;
}

describe('pollard compress flags', () => {
  it('passes a finished sensitivity run to automatic mode', async () => {
    const spec = await specOf([
      'compress',
      '--model',
      'm',
      '--data',
      'd',
      '--method',
      'structured',
      '--accuracy-budget',
      '1.5',
      '--sensitivity-run',
      'runs/sens',
      '--out',
      'o',
    ]);
    expect(spec).toMatchObject({
      kind: 'compress',
      method: 'structured',
      accuracyBudget: 1.5,
      sensitivityRun: path.resolve('runs/sens'),
    });
  });

  it('refuses --sensitivity-run for a method that does not prune', async () => {
    await expect(
      specOf([
        'compress',
        '--model',
        'm',
        '--data',
        'd',
        '--method',
        'quantize',
        '--sensitivity-run',
        's',
        '--out',
        'o',
      ]),
    ).rejects.toThrow(
      'compress --method quantize does not use --sensitivity-run: it applies to --method structured or structured+quantize',
    );
  });
});
