/**
 * Explore in the Method step: prune a fixed-weight conv model at several targets on the bundled
 * sample, see the accuracy/MACs and accuracy/latency charts and the table, and pick a point, which
 * sets the step's target. A first run with fine-tuning is cancelled while it runs.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeConvModel } from './conv-model';
import { expect, test } from './fixtures';
import { DatasetPage } from './pages/dataset-page';
import { ExplorePage } from './pages/explore-page';
import { ModelPage } from './pages/model-page';
import { Shell } from './pages/shell';

test('explore several targets and pick one from the table or a chart', async ({ app }) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  const model = new ModelPage(page);
  const explore = new ExplorePage(page);

  await dataset.useSample();
  await dataset.setLimit(200);
  await expect(dataset.classes).toHaveText('10', { timeout: 60_000 });
  await shell.next(/Model/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-explore-'));
  await model.chooseModelFiles(writeConvModel(path.join(dir, 'conv-28')));
  await expect(model.baselineAccuracy).toHaveAttribute('data-value', /\d/, { timeout: 120_000 });
  await shell.next(/Method/);
  await explore.open();

  await test.step('the default targets, and a run with fine-tuning cancelled while it runs', async () => {
    await expect(explore.panel.locator('[data-testid="explore-chip"][aria-pressed="true"]')).toHaveText([
      '20%',
      '40%',
      '60%',
      '80%',
    ]);
    await expect(page.getByTestId('explore-epochs')).toHaveValue('0');
    await explore.setEpochs(3);
    const request = page.waitForRequest((r) => r.url().endsWith('/api/call/startJob'));
    await explore.run();
    const [spec] = ((await request).postDataJSON() as { args: Record<string, unknown>[] }).args;
    expect(spec).toMatchObject({
      kind: 'explore',
      by: 'macs',
      targets: [0.2, 0.4, 0.6, 0.8],
      finetuneEpochs: 3,
    });
    await expect(explore.progress).toContainText(/explore \d\/4|fine-tune \d/, { timeout: 120_000 });
    await explore.cancel();
    await expect(explore.phase).toHaveText('Cancelled', { timeout: 120_000 });
    await expect(explore.rows).toHaveCount(0);
  });

  await test.step('two targets without fine-tuning: the original and both points', async () => {
    await explore.chooseTargets([0.2, 0.4]);
    await explore.setEpochs(0);
    await explore.run();
    await expect(explore.rows).toHaveCount(3, { timeout: 180_000 });
    await expect(explore.column('explore-target')).toHaveText(['original', '20%', '40%']);
    // MACs with a of conv1's 8 filters and b of conv2's 16 kept: 6,084a + 1,089ab + 1,210b; L1 keeps
    // 7 and 13 for 20% (24.1% cut: the channel steps overshoot), 6 and 11 for 40%.
    await expect(explore.column('explore-macs')).toHaveText(['207.4 k', '157.4 k', '121.7 k']);
    expect(
      await explore.column('explore-macs').evaluateAll((cells) => cells.map((c) => c.dataset.value)),
    ).toEqual(['207424', '157417', '121688']);
    await expect(explore.column('explore-cut')).toHaveText(['0.0%', '24.1%', '41.3%']);
    await expect(explore.column('explore-accuracy-pruned')).toHaveText(['9.50%', '11.00%', '10.00%']);
    await expect(explore.column('explore-pareto')).toHaveText(['', 'yes', 'yes']);
    await expect(explore.macsChart).toHaveAttribute('data-points', '3');
    await expect(explore.macsChart).toHaveAttribute('data-front', '2');
    await expect(explore.macsChart).toHaveAttribute('data-ticks', '0 k | 100 k | 200 k | 300 k');
    await expect(explore.latencyChart).toHaveAttribute('data-points', '3');
  });

  await test.step('picking the 40% row, then the 20% point, sets the target', async () => {
    await page.getByTestId('target').fill('0.7');
    await explore.row(0.4).click();
    await expect(page.getByTestId('target')).toHaveValue('0.4');
    await expect(page.getByTestId('target')).toHaveAttribute('aria-valuetext', '40% of MACs');
    await expect(explore.picked).toHaveText('Target set to 40% of the MACs.');
    await expect(explore.row(0.4)).toHaveClass(/picked/);
    await explore.clickPoint(explore.latencyChart, 0.2);
    await expect(page.getByTestId('target')).toHaveValue('0.2');
    await expect(explore.picked).toHaveText('Target set to 20% of the MACs.');
    await explore.panel.screenshot({ path: test.info().outputPath('explore-panel.png') });
  });
});
