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
  await expect(page.getByTestId('model-name')).toHaveText('conv-32', { timeout: 180_000 });
  // The baseline evaluation fails on the shape; the step says why and Next stays disabled.
  await expect(model.error).toContainText('baseline accuracy', { timeout: 120_000 });
  await expect(model.error).toContainText('28');
  await expect(page.getByTestId('next')).toBeDisabled();
  await expect(shell.stepButton('method')).toBeDisabled();
  await expect(shell.title).toHaveText('2. Model');

  // The model that fits goes on.
  await model.chooseModelFiles(writeConvModel(path.join(dir, 'conv-28'), 28));
  await expect(page.getByTestId('model-name')).toHaveText('conv-28', { timeout: 180_000 });
  await expect(model.baselineAccuracy).not.toHaveText('—', { timeout: 120_000 });
  await expect(model.baselineAccuracy).not.toHaveText('measuring…', { timeout: 120_000 });
  await expect(model.error).toHaveCount(0);
  // Its fixed weights do not classify the sample: the step says the accuracy is at chance level.
  await expect(page.getByTestId('chance-hint')).toHaveText(
    "Chance level: guessing one of 10 classes scores 10.00%. Check the input scaling below and that the dataset's classes are in the model's order.",
  );
  // The file says nothing about its pixels: unit, and the step says so.
  await expect(page.getByTestId('input-scaling')).toHaveValue('unit');
  await expect(page.getByTestId('input-scaling-guess')).toHaveText(
    'the file does not say how its pixels were scaled: check how the model was trained',
  );
  // The graph: one lane, output channels per layer.
  await expect(page.getByTestId('model-graph').getByTestId('graph-channels')).toHaveText([
    '8',
    '8',
    '16',
    '1,936',
    '10',
  ]);
  await expect(page.getByTestId('model-graph').getByTestId('graph-pruned')).toHaveCount(0);

  // A model named like Keras's MobileNetV2 is guessed [−1, 1], and its baseline is measured that way.
  const evaluated = page.waitForRequest(
    (r) => r.url().endsWith('/api/call/startJob') && (r.postData() ?? '').includes('"evaluate"'),
    { timeout: 180_000 },
  );
  await model.chooseModelFiles(writeConvModel(path.join(dir, 'mobilenet'), 28, 'mobilenetv2_e2e'));
  await expect(page.getByTestId('model-name')).toHaveText('mobilenetv2_e2e', { timeout: 180_000 });
  await expect(page.getByTestId('input-scaling')).toHaveValue('symmetric');
  await expect(page.getByTestId('input-scaling-guess')).toHaveText(
    'guessed from the file: model mobilenetv2_e2e is a Keras mobilenetv2, which takes [−1, 1]',
  );
  const [spec] = ((await evaluated).postDataJSON() as { args: Record<string, unknown>[] }).args;
  expect(spec).toMatchObject({ kind: 'evaluate', inputScaling: 'symmetric', limit: 200 });
  // Choosing another scaling measures the baseline again with it.
  const again = page.waitForRequest(
    (r) => r.url().endsWith('/api/call/startJob') && (r.postData() ?? '').includes('"evaluate"'),
    { timeout: 60_000 },
  );
  await page.getByTestId('input-scaling').selectOption('unit');
  const [unitSpec] = ((await again).postDataJSON() as { args: Record<string, unknown>[] }).args;
  expect(unitSpec).toMatchObject({ kind: 'evaluate', inputScaling: 'unit' });
  await expect(model.baselineAccuracy).toHaveAttribute('data-value', /\d/, { timeout: 120_000 });
  await shell.next(/Method/);
});
