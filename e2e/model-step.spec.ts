/**
 * The Model step stops the wizard where the model cannot run on the dataset: a 32×32 model on
 * 28×28 Fashion-MNIST fails its baseline evaluation, the reason is shown, and Method stays shut.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { expect, test } from './fixtures';
import { writeConvModel } from './conv-model';
import { DatasetPage } from './pages/dataset-page';
import { ModelPage } from './pages/model-page';
import { Shell } from './pages/shell';

test('a model whose input does not fit the dataset stops the wizard at the Model step', async ({ app }) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  const model = new ModelPage(page);

  await dataset.useSample();
  await dataset.setLimit(200);
  await expect(dataset.classes).toHaveText('10', { timeout: 60_000 });
  await shell.next(/Model/);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-e2e-model-'));
  await model.chooseModelFiles(writeConvModel(path.join(dir, 'conv-32'), 32));
  await expect(page.getByTestId('model-name')).toHaveText('conv-32', { timeout: 60_000 });
  // The baseline evaluation fails on the shape; the step says why and Next stays disabled.
  await expect(model.error).toContainText('baseline accuracy', { timeout: 120_000 });
  await expect(model.error).toContainText('28');
  await expect(page.getByTestId('next')).toBeDisabled();
  await expect(shell.stepButton('method')).toBeDisabled();
  await expect(shell.title).toHaveText('2. Model');

  // The model that fits goes on.
  await model.chooseModelFiles(writeConvModel(path.join(dir, 'conv-28'), 28));
  await expect(page.getByTestId('model-name')).toHaveText('conv-28', { timeout: 60_000 });
  await expect(model.baselineAccuracy).not.toHaveText('—', { timeout: 120_000 });
  await expect(model.baselineAccuracy).not.toHaveText('measuring…', { timeout: 120_000 });
  await expect(model.error).toHaveCount(0);
  await shell.next(/Method/);
});
