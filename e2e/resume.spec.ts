/**
 * At start the app offers to resume runs whose processes are gone: a training run left
 * "running" by a host that died (its run.json says running; its process ids are dead) shows a
 * banner; Resume continues it, the progress shows, and its model opens when it ends.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jobSpecSchema } from '../src/shared/jobs';
import { expect, test } from './fixtures';
import { SAMPLE_DIR } from './helpers';
import { expectJobDone } from './pages/job-end';
import { ModelPage } from './pages/model-page';
import { Shell } from './pages/shell';

test('an interrupted training run is offered at start and resumes', async ({ app }) => {
  test.skip(!app.dataDir, 'needs the data folder of the server under test (POLLARD_E2E_DATA_DIR)');
  const { page } = app;
  const runDir = path.join(app.dataDir!, 'runs', `train-interrupted-${Date.now()}`);
  mkdirSync(runDir, { recursive: true });
  // A process that has exited: its pid stands for the dead host and job process.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const spec = jobSpecSchema.parse({
    kind: 'train',
    data: SAMPLE_DIR,
    arch: 'lenet',
    out: runDir,
    training: { epochs: 1 },
    limit: 600,
  });
  const now = new Date().toISOString();
  writeFileSync(
    path.join(runDir, 'run.json'),
    JSON.stringify({
      format: 'pollard-run/1',
      id: 'interrupted-e2e',
      kind: 'train',
      spec,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      pid: dead,
      hostPid: dead,
      seed: spec.seed,
      pollardVersion: '0.1.0',
      resumes: 0,
    }),
  );

  await page.reload();
  const banner = page.getByTestId('resume-banner').filter({ hasText: 'An interrupted train run' });
  await expect(banner).toBeVisible({ timeout: 60_000 });
  await banner.getByRole('button', { name: 'Resume' }).click();
  await expect(banner).toHaveCount(0);

  const shell = new Shell(app);
  const model = new ModelPage(page);
  await expect(shell.title).toHaveText('2. Model', { timeout: 120_000 });
  await expectJobDone(model.trainPhase, page.getByTestId('train-error'), 300_000);
  await expect(model.summary).toBeVisible({ timeout: 120_000 });
  await expect
    .poll(() => JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>)
    .toMatchObject({ status: 'completed', resumes: 1 });
});
