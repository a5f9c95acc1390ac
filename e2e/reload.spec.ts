/**
 * Reloading the page loses nothing: the wizard's place (step in the URL hash, choices in the
 * tab's storage) comes back; a compress job that is running is watched again, with its charts'
 * history, its ticks stepping by 1, 2 or 5 (whole epochs, percent); Recent runs → Open on a
 * running job shows its live Run screen with Cancel; and after Cancel and Resume the charts still
 * hold the points from before the cancel.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { SAMPLE_DIR, writeTfjsModel } from './helpers';
import { DatasetPage } from './pages/dataset-page';
import { RunPage } from './pages/run-page';
import { Shell } from './pages/shell';

/** Points of the Run step's loss chart (training, validation). */
async function lossPoints(page: Page): Promise<number> {
  const counts = await page
    .locator('figure[aria-label="Training and validation loss by epoch"]')
    .getAttribute('data-points');
  return Number((counts ?? '0').split(',')[0]);
}

/** The tick labels a Run step chart drew on one axis (LineChart's data-x-ticks / data-y-ticks). */
async function drawnTicks(page: Page, chart: string, axis: 'x' | 'y'): Promise<string[]> {
  const ticks = await page.locator(`figure[aria-label="${chart}"]`).getAttribute(`data-${axis}-ticks`);
  return ticks ? ticks.split(' | ') : [];
}

/** Whether `labels` are evenly spaced numbers whose step is 1, 2 or 5 × 10ⁿ (and whole, if `integer`). */
function stepsByOneTwoFive(labels: string[], integer = false): boolean {
  const values = labels.map(Number);
  if (values.length < 2 || values.some((v) => !Number.isFinite(v))) return false;
  if (integer && values.some((v) => !Number.isInteger(v))) return false;
  const step = values[1]! - values[0]!;
  const mantissa = step / 10 ** Math.floor(Math.log10(step));
  return (
    [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6) &&
    values.every((v, i) => Math.abs(v - values[0]! - i * step) < step * 1e-6)
  );
}

test('the wizard’s place survives a reload', async ({ app }) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  await dataset.useSample();
  await expect(dataset.format).toHaveText('IDX (MNIST-style)', { timeout: 60_000 });
  await dataset.setLimit(500);
  await shell.next(/2\. Model/);
  await expect.poll(() => new URL(page.url()).hash).toBe('#/model');

  await page.reload();
  await expect(shell.title).toHaveText('2. Model', { timeout: 60_000 });
  expect(new URL(page.url()).hash).toBe('#/model');
  await shell.goto('dataset', /1\. Dataset/);
  await expect(dataset.format).toHaveText('IDX (MNIST-style)');
  await expect(page.getByTestId('limit')).toHaveValue('500');
  await expect.poll(() => new URL(page.url()).hash).toBe('#/dataset');
});

test('a running compress job comes back after a reload, and Resume keeps its history', async ({ app }) => {
  test.skip(app.kind !== 'web', 'starts the job through the HTTP API of pollard serve');
  const { page } = app;
  const shell = new Shell(app);
  const run = new RunPage(page);
  const modelDir = mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-reload-'));
  writeTfjsModel(modelDir, { model: 'dense', dense: 'logits' });
  const origin = new URL(page.url()).origin;
  const started = await page.request.post(`${origin}/api/call/startJob`, {
    data: {
      args: [
        {
          kind: 'compress',
          model: modelDir,
          data: SAMPLE_DIR,
          method: 'magnitude',
          sparsity: 0.5,
          finetuneEpochs: 200,
          limit: 6000,
          backend: 'auto',
          energy: { mode: 'off' },
        },
      ],
    },
  });
  const status = (await started.json()) as { ok: boolean; value: { runDir: string } };
  expect(status.ok).toBe(true);
  const runDir = status.value.runDir;

  await test.step('Recent runs → Open on the running job shows it live, with Cancel', async () => {
    await shell.view('runs').click();
    const row = page.locator(`[data-testid="run-row"][data-dir="${runDir}"]`);
    await expect(row.getByTestId('run-status')).toHaveText('running', { timeout: 60_000 });
    await row.getByRole('button', { name: 'Open' }).click();
    await expect(shell.title).toHaveText('4. Run');
    await expect(run.runDir).toHaveText(runDir);
    await expect(page.getByTestId('run-progress-cancel')).toBeVisible();
    await expect.poll(() => lossPoints(page), { timeout: 240_000 }).toBeGreaterThan(30);
  });

  await test.step('the live charts step by 1, 2 or 5: whole epochs on x, the unit shown on y', async () => {
    const loss = 'Training and validation loss by epoch';
    const accuracy = 'Training and validation accuracy by epoch';
    await expect
      .poll(() => drawnTicks(page, accuracy, 'y'))
      .toEqual(['0%', '20%', '40%', '60%', '80%', '100%']);
    // The loss falls from about 2.3 (ten classes) and the epochs go on: whatever the figures, the ticks step nicely.
    await expect.poll(async () => stepsByOneTwoFive(await drawnTicks(page, loss, 'y'))).toBe(true);
    await expect.poll(async () => stepsByOneTwoFive(await drawnTicks(page, loss, 'x'), true)).toBe(true);
    await expect.poll(async () => stepsByOneTwoFive(await drawnTicks(page, accuracy, 'x'), true)).toBe(true);
    expect((await drawnTicks(page, loss, 'x'))[0]).toBe('0');
  });

  await test.step('a reload watches it again, with the points from before', async () => {
    const before = await lossPoints(page);
    await page.reload();
    await expect(shell.title).toHaveText('4. Run', { timeout: 60_000 });
    await expect(run.runDir).toHaveText(runDir);
    await expect(page.getByTestId('run-progress-cancel')).toBeVisible();
    await expect.poll(() => lossPoints(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(before);
    await expect(run.log).toContainText('started compress');
  });

  await test.step('after Cancel and Resume the charts keep the history from before the cancel', async () => {
    // Past the first epoch, so the resumed run starts after a checkpoint.
    await expect.poll(() => lossPoints(page), { timeout: 240_000 }).toBeGreaterThan(150);
    await run.cancel();
    await expect(run.phase).toHaveText('Cancelled', { timeout: 120_000 });
    const beforeCancel = await lossPoints(page);
    await run.resume();
    // The resumed job needs seconds to start: these points can only be the replayed history.
    await expect.poll(() => lossPoints(page), { timeout: 3_000 }).toBeGreaterThanOrEqual(beforeCancel);
    await expect(page.getByTestId('run-progress-cancel')).toBeVisible({ timeout: 60_000 });
    await expect(run.phase).toHaveText('Running', { timeout: 120_000 });
    await run.cancel();
    await expect(run.phase).toHaveText('Cancelled', { timeout: 120_000 });
  });
});
