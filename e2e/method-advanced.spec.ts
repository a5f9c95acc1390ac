/**
 * The Method step before Run: what the plan really removes beside the target, the per-layer
 * before → after table, and the Advanced options (defaults shown, sent to the engine; automatic
 * mode reuses the sensitivity the user measured). A fixed-weight conv model keeps the numbers exact.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from './fixtures';
import { writeConvModel } from './conv-model';
import { DatasetPage } from './pages/dataset-page';
import { MethodPage } from './pages/method-page';
import { ModelPage } from './pages/model-page';
import { PlanPage } from './pages/plan-page';
import { Shell } from './pages/shell';

test('plan per layer, achieved figure and advanced options', async ({ app }) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  const model = new ModelPage(page);
  const method = new MethodPage(page);
  const plan = new PlanPage(page);

  await dataset.useSample();
  await dataset.setLimit(200);
  await expect(dataset.classes).toHaveText('10', { timeout: 60_000 });
  await shell.next(/Model/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-method-'));
  await model.chooseModelFiles(writeConvModel(path.join(dir, 'conv-28')));
  await expect(model.baselineAccuracy).toHaveAttribute('data-value', /\d/, { timeout: 120_000 });
  await shell.next(/Method/);

  const rows = (): Promise<[string, string, string][]> =>
    Promise.all(['conv1', 'conv2', 'fc'].map((name) => plan.row(name)));

  await test.step('the achieved figure and the per-layer table follow the slider', async () => {
    await method.setTarget('macs', 0.6);
    // 8 and 16 channels go in blocks, so 60% of the MACs cannot be met exactly: the plan says so.
    await expect(page.getByTestId('plan-achieved-text')).toHaveText(
      'asked 60%, the plan removes 66.8% of the MACs (6.8% more than asked)',
      { timeout: 60_000 },
    );
    await expect(plan.same).toHaveText('· the same plan as 65%');
    // With a and b channels kept: conv1 10a params, 6,084a MACs; conv2 72ab + b, 1,089ab; fc 1,210b + 10, 1,210b.
    expect(await rows()).toEqual([
      ['8 → 4', '80 → 40', '48,672 → 24,336'],
      ['16 → 8', '1,168 → 296', '139,392 → 34,848'],
      ['10 → 10', '19,370 → 9,690', '19,360 → 9,680'],
    ]);
    await expect(plan.layer('fc').getByTestId('ignore-layer')).toHaveCount(0);
    // The planned graph shades the same channels, carried through the pooling and Flatten layers.
    const graph = page.getByTestId('plan-graph').getByTestId('graph-channels');
    await expect(graph).toHaveText(['8 → 4', '8 → 4', '16 → 8', '1,936 → 968', '10']);
    await expect(page.getByTestId('plan-graph').getByTestId('graph-pruned')).toHaveCount(4);
  });

  await test.step('advanced options show their defaults', async () => {
    await plan.openAdvanced();
    await expect(plan.field('scope-layer')).toBeChecked();
    await expect(plan.field('round-to')).toHaveValue('1');
    await expect(plan.field('steps')).toHaveValue('1');
    await expect(plan.field('learning-rate')).toHaveValue('0.001');
    await expect(plan.field('batch-size')).toHaveValue('64');
    await expect(plan.advanced).toContainText('Round channels to a multiple of (default 1)');
    await expect(plan.advanced).toContainText('Learning rate (default 0.001)');
    await expect(plan.advanced).toContainText('Batch size (default 64)');
    await expect(plan.field('automatic')).toBeDisabled();
    await expect(plan.field('automatic-note')).toHaveText(
      'Analyse sensitivity below first (with this criterion): automatic mode uses those measurements.',
    );
  });

  await test.step('round-to and a kept layer change the plan', async () => {
    await plan.field('round-to').fill('3');
    // Kept counts become multiples of 3 (8 → 3, 16 → 6): the plan overshoots further.
    await expect.poll(rows, { timeout: 60_000 }).toEqual([
      ['8 → 3', '80 → 30', '48,672 → 18,252'],
      ['16 → 6', '1,168 → 168', '139,392 → 19,602'],
      ['10 → 10', '19,370 → 7,270', '19,360 → 7,260'],
    ]);
    await expect(page.getByTestId('plan-achieved-text')).toHaveText(
      'asked 60%, the plan removes 78.3% of the MACs (18.3% more than asked)',
    );
    await plan.field('round-to').fill('1');
    await plan.layer('conv1').getByTestId('ignore-layer').check();
    // conv1 stays whole, so conv2 gives more: 60% of the MACs needs conv2 down to 3 channels.
    await expect.poll(rows, { timeout: 60_000 }).toEqual([
      ['8 → 8', '80 → 80', '48,672 → 48,672'],
      ['16 → 3', '1,168 → 219', '139,392 → 26,136'],
      ['10 → 10', '19,370 → 3,640', '19,360 → 3,630'],
    ]);
    await expect(page.getByTestId('plan-achieved-text')).toHaveText(
      'asked 60%, the plan removes 62.2% of the MACs (2.2% more than asked)',
    );
  });

  await test.step('the sensitivity panel is for pruning methods only', async () => {
    await method.choose('quantize');
    await expect(page.getByTestId('analyse-sensitivity')).toHaveCount(0);
    await expect(page.getByTestId('plan-graph')).toHaveCount(0);
    await method.choose('structured');
    await expect(page.getByTestId('analyse-sensitivity')).toBeVisible();
  });

  await test.step('automatic mode uses the measured sensitivity', async () => {
    await method.setTarget('macs', 0.6);
    await method.analyseSensitivity();
    await expect(method.sensitivityChart).toBeVisible({ timeout: 180_000 });
    await plan.openAdvanced();
    await expect(plan.field('automatic')).toBeEnabled();
    await expect(plan.field('automatic-note')).toHaveText('The sensitivity analysed below is ready to use.');
    await plan.field('automatic').check();
    await expect(plan.field('steps')).toBeDisabled();
    await plan.field('accuracy-budget').fill('2');
    await plan.field('batch-size').fill('32');
    await plan.field('learning-rate').fill('0.0005');
    const request = page.waitForRequest((r) => r.url().endsWith('/api/call/startJob'));
    await method.start();
    const [spec] = ((await request).postDataJSON() as { args: Record<string, unknown>[] }).args;
    const { model: modelPath, sensitivityRun, ...rest } = spec!;
    expect(String(modelPath)).toContain('uploads');
    expect(String(sensitivityRun)).toMatch(/[\\/]runs[\\/]sensitivity-\d{8}-\d{6}-[0-9a-f]+$/);
    expect(rest).toEqual({
      kind: 'compress',
      data: expect.stringMatching(/fashion-mnist-small$/) as unknown,
      method: 'structured',
      targetMacs: 0.6,
      criterion: 'l1',
      ignoredLayers: ['conv1'],
      accuracyBudget: 2,
      finetuneEpochs: 2,
      training: { learningRate: 0.0005 },
      batchSize: 32,
      limit: 200,
    });
    // Only the spec matters here: stop the run.
    await page.getByTestId('run-progress-cancel').click();
  });
});
