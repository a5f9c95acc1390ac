/**
 * Recent runs reads like a table, not raw keys: method, date, accuracy before → after, MACs
 * cut and energy saved for each run; two ticked runs side by side; a run whose run.json is
 * damaged is listed with the reason instead of breaking the list.
 */
import path from 'node:path';
import { formatPercent } from '../src/renderer/lib/format';
import { formatRunDate } from '../src/renderer/lib/state/run-rows';
import { expect, test } from './fixtures';
import { writeCompressRun, writeTornRun } from './pages/run-fixtures';
import { Shell } from './pages/shell';

type Json = Record<string, unknown>;

/** The measured inference saving the fixture's energy protocol computed (its `total` comparison). */
function inferenceSaving(result: Json): number {
  const energy = result.energy as { measured: { inference: { result: { savings: Json[] } } } };
  return energy.measured.inference.result.savings.find((s) => s.id === 'total')!.saving as number;
}

test('recent runs: a table, a comparison, and a damaged record', async ({ app }) => {
  test.skip(!app.dataDir, 'needs the data folder of the server under test (POLLARD_E2E_DATA_DIR)');
  const { page } = app;
  const shell = new Shell(app);
  const runs = path.join(app.dataDir!, 'runs');
  const pruned = await writeCompressRun(runs, 'compress-table-a');
  const quantized = await writeCompressRun(runs, 'compress-table-b', (result, run) => {
    result.method = 'quantize';
    (result.after as Json).accuracy = 0.8625;
    (result.after as Json).macs = 358440;
    (result.after as Json).sizeBytes = 62_618;
    delete (result.energy as Json).measured;
    (run.spec as Json).method = 'quantize';
    delete (run.spec as Json).targetMacs;
    run.createdAt = '2026-01-03T10:20:00.000Z';
  });
  const torn = await writeTornRun(runs, 'compress-torn');
  const saving = inferenceSaving(pruned.result);
  expect(saving).toBeGreaterThan(0);

  await shell.view('runs').click();
  const row = (dir: string) => page.locator(`[data-testid="run-row"][data-dir="${dir}"]`);

  await test.step('each run in words and percentages', async () => {
    const a = row(pruned.dir);
    await expect(a.getByTestId('run-method')).toHaveText('Prune + quantize');
    await expect(a.getByTestId('run-date')).toHaveText(formatRunDate('2026-01-02T03:04:05.000Z'));
    await expect(a.getByTestId('run-status')).toHaveText('completed');
    await expect(a.getByTestId('run-accuracy')).toHaveText('86.40% → 85.45%');
    await expect(a.getByTestId('run-macs-cut')).toHaveText(formatPercent(1 - 178930 / 358440, 1));
    await expect(a.getByTestId('run-macs-cut')).toHaveText('50.1%');
    await expect(a.getByTestId('run-energy-saved')).toHaveText(formatPercent(saving, 1));
    const b = row(quantized.dir);
    await expect(b.getByTestId('run-method')).toHaveText('Quantization');
    await expect(b.getByTestId('run-date')).toHaveText(formatRunDate('2026-01-03T10:20:00.000Z'));
    await expect(b.getByTestId('run-accuracy')).toHaveText('86.40% → 86.25%');
    await expect(b.getByTestId('run-macs-cut')).toHaveText('0.0%');
    await expect(b.getByTestId('run-energy-saved')).toHaveText('—');
    await expect(page.getByTestId('runs-table')).not.toContainText('macsRatio');
    await expect(page.getByTestId('runs-table')).not.toContainText('accuracyBefore');
  });

  await test.step('a damaged run.json is listed with its reason', async () => {
    const damaged = row(torn);
    await expect(damaged.getByTestId('run-status')).toHaveText('damaged');
    await expect(damaged.getByTestId('run-method')).toHaveText('damaged run');
    await expect(damaged.getByTestId('run-damaged')).toHaveText(
      `${path.join(torn, 'run.json')}: is not valid JSON`,
    );
    await expect(damaged.getByRole('button', { name: 'Open' })).toHaveCount(0);
  });

  await test.step('two ticked runs side by side', async () => {
    await row(pruned.dir).getByTestId('run-compare').check();
    await row(quantized.dir).getByTestId('run-compare').check();
    const lines = page.getByTestId('run-comparison').getByTestId('comparison-row');
    await expect(lines).toHaveText([
      'MethodPrune + quantizeQuantization',
      `Started${formatRunDate('2026-01-02T03:04:05.000Z')}${formatRunDate('2026-01-03T10:20:00.000Z')}`,
      'Statuscompletedcompleted',
      'Accuracy before86.40%86.40%',
      'Accuracy after85.45%86.25%',
      'Accuracy change−0.95 pts−0.15 pts',
      'MACs cut50.1%0.0%',
      `File size cut${formatPercent(1 - 29315 / 250471, 1)}${formatPercent(1 - 62_618 / 250471, 1)}`,
      `Inference energy saved${formatPercent(saving, 1)}—`,
      'Backendwasmwasm',
    ]);
    await row(quantized.dir).getByTestId('run-compare').uncheck();
    await expect(page.getByTestId('run-comparison')).toHaveCount(0);
  });

  await test.step('Open still shows a run’s results', async () => {
    await row(pruned.dir).getByRole('button', { name: 'Open' }).click();
    await expect(shell.title).toHaveText('5. Results');
  });
});
