/**
 * SECURITY.md item 23: names from model and dataset files that contain markup are inert.
 * TensorFlow.js itself refuses markup in layer names ("Not a valid tensor name"), so such a
 * name reaches the UI in the error message; a model name and a dataset's class-folder name
 * can hold markup and are shown as such. Everywhere: text, never an element, never run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from './fixtures';
import { MARKUP_CLASS, MARKUP_LAYER, MARKUP_MODEL, writeImageFolder, writeTfjsModel } from './helpers';
import { DatasetPage } from './pages/dataset-page';
import { ModelPage } from './pages/model-page';
import { Shell } from './pages/shell';

declare global {
  interface Window {
    __pollardXss?: number;
  }
}

test('markup in model, layer and class names is shown as text and never runs', async ({ app }) => {
  test.skip(app.kind !== 'web', 'uploads through the file chooser are the browser path');
  const { page } = app;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-markup-'));
  try {
    const shell = new Shell(app);
    const dataset = new DatasetPage(page);
    const model = new ModelPage(page);
    const noInjectedElements = async (): Promise<void> => {
      await expect(page.locator('#main img:not([src^="data:image/png;base64,"])')).toHaveCount(0);
      await expect(page.locator('#main script')).toHaveCount(0);
      expect(await page.evaluate(() => window.__pollardXss)).toBeUndefined();
    };

    // A class folder named with markup: its name is the caption under its sample images.
    const images = path.join(dir, 'images');
    await writeImageFolder(images, MARKUP_CLASS);
    await page.getByTestId('dataset-folder-input').setInputFiles(images);
    await expect(dataset.format).toHaveText('Image folders', { timeout: 60_000 });
    await expect(dataset.classes).toHaveText('2');
    await expect(
      page.getByTestId('sample-grid').getByText(MARKUP_CLASS, { exact: true }).first(),
    ).toBeVisible();
    await noInjectedElements();

    // The sample for the model checks (its input is 28×28×1).
    await dataset.useSample();
    await expect(dataset.format).toHaveText('IDX (MNIST-style)', { timeout: 60_000 });
    await shell.next(/2\. Model/);

    // A layer named with markup: refused by TensorFlow.js, and the error shows the name as text.
    await model.chooseModelFiles(
      writeTfjsModel(path.join(dir, 'bad-layer'), { model: 'plain', dense: MARKUP_LAYER }),
    );
    await expect(model.error).toContainText(`Not a valid tensor name: '${MARKUP_LAYER}/kernel'`, {
      timeout: 120_000,
    });
    await noInjectedElements();

    // A model named with markup: opened, and its name shown as text.
    await model.chooseModelFiles(
      writeTfjsModel(path.join(dir, 'bad-model'), { model: MARKUP_MODEL, dense: 'dense' }),
    );
    await expect(model.summary).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId('model-name')).toHaveText(MARKUP_MODEL);
    await expect(model.layerNames).toHaveText(['flatten', 'dense']);
    await noInjectedElements();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
