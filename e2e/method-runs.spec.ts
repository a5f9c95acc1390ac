/**
 * The Method step's own runs, explore and sensitivity, are kept like a compress run: a finished one
 * opened from Recent runs shows its charts and table (or its curves) on the Method step with its
 * dataset and model; a running one is watched again after a reload, with its progress and log, Cancel
 * and, when it ends, its result. A fixed-weight conv model on the bundled sample keeps the numbers exact.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { jobEnd, startJob } from './api-jobs';
import { writeConvModel } from './conv-model';
import { expect, test } from './fixtures';
import { SAMPLE_DIR } from './helpers';
import { DatasetPage } from './pages/dataset-page';
import { ExplorePage } from './pages/explore-page';
import { MethodPage } from './pages/method-page';
import { ModelPage } from './pages/model-page';
import { PlanPage } from './pages/plan-page';
import { Shell } from './pages/shell';

/** MACs with a of conv1's 8 filters and b of conv2's 16 kept (explore.spec.ts): the original, 20% and 40%. */
const EXPLORED_MACS = ['207424', '157417', '121688'];

function convModelDir(): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-method-runs-')), 'conv-28');
  writeConvModel(dir);
  return dir;
}

async function openFromRecentRuns(page: Page, shell: Shell, runDir: string, status: string): Promise<void> {
  await shell.view('runs').click();
  const row = page.locator(`[data-testid="run-row"][data-dir="${runDir}"]`);
  await expect(row.getByTestId('run-status')).toHaveText(status, { timeout: 60_000 });
  await row.getByRole('button', { name: 'Open' }).click();
}

test('finished explore and sensitivity runs open from Recent runs on the Method step', async ({ app }) => {
  test.skip(app.kind !== 'web', 'starts the runs through the HTTP API of pollard serve');
  const { page } = app;
  const shell = new Shell(app);
  const explore = new ExplorePage(page);
  const method = new MethodPage(page);
  const model = convModelDir();
  const data = { model, data: SAMPLE_DIR, limit: 200 };
  const explored = await startJob(page, { kind: 'explore', ...data, targets: [0.2, 0.4] });
  const measured = await startJob(page, { kind: 'sensitivity', ...data });
  expect(await jobEnd(page, explored.jobId, 240_000)).toBe('completed');
  expect(await jobEnd(page, measured.jobId, 240_000)).toBe('completed');

  await test.step('the explore run: its table and both charts, with the dataset and model it ran on', async () => {
    await openFromRecentRuns(page, shell, explored.runDir, 'completed');
    await expect(shell.title).toHaveText('3. Method', { timeout: 60_000 });
    await expect(page.getByTestId('method-structured')).toBeChecked();
    await expect(explore.rows).toHaveCount(3);
    await expect(explore.column('explore-target')).toHaveText(['original', '20%', '40%']);
    expect(
      await explore.column('explore-macs').evaluateAll((cells) => cells.map((c) => c.dataset.value)),
    ).toEqual(EXPLORED_MACS);
    await expect(explore.column('explore-macs')).toHaveText(['207.4 k', '157.4 k', '121.7 k']);
    await expect(explore.column('explore-cut')).toHaveText(['0.0%', '24.1%', '41.3%']);
    await expect(explore.column('explore-accuracy-pruned')).toHaveText(['9.50%', '11.00%', '10.00%']);
    await expect(explore.macsChart).toHaveAttribute('data-points', '3');
    await expect(explore.macsChart).toHaveAttribute('data-ticks', '0 k | 100 k | 200 k | 300 k');
    await expect(explore.latencyChart).toHaveAttribute('data-points', '3');
    // The chips say what the run was asked for, and a row still sets the target.
    await expect(explore.panel.locator('[data-testid="explore-chip"][aria-pressed="true"]')).toHaveText([
      '20%',
      '40%',
    ]);
    await explore.row(0.4).click();
    await expect(page.getByTestId('target')).toHaveValue('0.4');
    await shell.goto('dataset', /1\. Dataset/);
    await expect(page.getByTestId('limit')).toHaveValue('200');
  });

  await test.step('the explore run is still shown after a reload', async () => {
    await shell.goto('method', /3\. Method/);
    await page.reload();
    await expect(shell.title).toHaveText('3. Method', { timeout: 60_000 });
    await expect(explore.column('explore-target')).toHaveText(['original', '20%', '40%'], {
      timeout: 60_000,
    });
  });

  await test.step('the sensitivity run: its curves, ready for automatic mode', async () => {
    await openFromRecentRuns(page, shell, measured.runDir, 'completed');
    await expect(shell.title).toHaveText('3. Method', { timeout: 60_000 });
    // conv1 and conv2 at nine ratios each, and the unpruned line.
    await expect(method.sensitivityChart).toHaveAttribute('data-points', '9,9,9');
    await expect(page.getByTestId('sensitivity-progress')).toHaveCount(0);
    const plan = new PlanPage(page);
    await plan.openAdvanced();
    await expect(plan.field('automatic-note')).toHaveText('The sensitivity analysed below is ready to use.');
  });
});

test('a running explore job comes back after a reload, and its result shows when it ends', async ({
  app,
}) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  const modelStep = new ModelPage(page);
  const explore = new ExplorePage(page);

  await dataset.useSample();
  // 10,800 training samples, fine-tuned for 3 epochs (the most explore allows) at each target: long
  // enough to reload while it runs (with 5,400 the faster training loop could end first).
  await dataset.setLimit(12000);
  await expect(dataset.classes).toHaveText('10', { timeout: 60_000 });
  await shell.next(/Model/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-method-runs-'));
  await modelStep.chooseModelFiles(writeConvModel(path.join(dir, 'conv-28')));
  await expect(modelStep.baselineAccuracy).toHaveAttribute('data-value', /\d/, { timeout: 120_000 });
  await shell.next(/Method/);
  await explore.open();
  await explore.chooseTargets([0.2, 0.4]);
  await explore.setEpochs(3);
  await explore.run();
  await expect(explore.progress).toContainText('fine-tune 1', { timeout: 120_000 });

  await page.reload();
  await expect(shell.title).toHaveText('3. Method', { timeout: 60_000 });
  await expect(page.getByTestId('explore-progress-cancel')).toBeVisible({ timeout: 60_000 });
  await expect(explore.panel.locator('[data-testid="explore-chip"][aria-pressed="true"]')).toHaveText([
    '20%',
    '40%',
  ]);
  await expect(page.getByTestId('explore-epochs')).toHaveValue('3');
  // The log from before the reload, replayed from the run's events.
  const log = explore.panel.getByTestId('log-panel');
  await expect(log).toContainText('started explore');
  await expect(log).toContainText('explore 1/2: 20% fewer MACs');

  await expect(explore.rows).toHaveCount(3, { timeout: 300_000 });
  expect(
    await explore.column('explore-macs').evaluateAll((cells) => cells.map((c) => c.dataset.value)),
  ).toEqual(EXPLORED_MACS);
  // The same first 1,000 test samples as with any limit of 1,000 or more.
  await expect(explore.column('explore-accuracy-pruned')).toHaveText(['9.50%', '9.50%', '9.60%']);
  await expect(explore.panel.locator('thead')).toContainText('After 3 epochs');
  await expect(explore.column('explore-accuracy-tuned')).toHaveCount(3);
  await expect(explore.macsChart).toHaveAttribute('data-points', '3');
  await expect(page.getByTestId('explore-progress')).toHaveCount(0);
});

test('a running sensitivity job opened from Recent runs comes back after a reload, and Cancel stops it', async ({
  app,
}) => {
  test.skip(app.kind !== 'web', 'starts the job through the HTTP API of pollard serve');
  const { page } = app;
  const shell = new Shell(app);
  // 99 ratios of each of two groups on 1,000 samples: long enough to reload while it runs.
  const ratios = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
  const job = await startJob(page, {
    kind: 'sensitivity',
    model: convModelDir(),
    data: SAMPLE_DIR,
    ratios,
    limit: 12_000,
  });
  const progress = page.getByTestId('sensitivity-progress');

  await openFromRecentRuns(page, shell, job.runDir, 'running');
  await expect(shell.title).toHaveText('3. Method', { timeout: 60_000 });
  await expect(page.getByTestId('sensitivity-progress-cancel')).toBeVisible();
  await expect(progress.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9]/, {
    timeout: 120_000,
  });

  await page.reload();
  await expect(shell.title).toHaveText('3. Method', { timeout: 60_000 });
  await expect(page.getByTestId('sensitivity-progress-cancel')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('sensitivity-progress-phase')).toHaveText('Running');
  // The progress from before the reload.
  await expect(progress.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9]/);
  await page.getByTestId('sensitivity-progress-cancel').click();
  await expect(page.getByTestId('sensitivity-progress-phase')).toHaveText('Cancelled', { timeout: 120_000 });
  expect(await jobEnd(page, job.jobId, 60_000)).toBe('cancelled');
});
