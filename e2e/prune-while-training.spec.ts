/**
 * "Train a smaller network (prune while training)" on the bundled sample, tiny settings: a
 * vgg-small pruned after epoch 1 to half its MACs, without a dense run (training one too would
 * double the time on a 2-core machine). The Model step shows when the structure was found and
 * how far the network shrank, then says that no dense run exists to measure the saving against.
 */
import { NO_DENSE_RUN } from '../src/renderer/lib/prune-text';
import { expect, test } from './fixtures';
import { sampleBytes } from './helpers';
import { DatasetPage } from './pages/dataset-page';
import { expectJobDone } from './pages/job-end';
import { ModelPage } from './pages/model-page';
import { Shell } from './pages/shell';

test('prune while training: the marker line, then no dense run to compare with', async ({ app }) => {
  test.skip(app.kind !== 'web', 'drives the browser build (script-made Files)');
  test.setTimeout(90_000);
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  const model = new ModelPage(page);

  await dataset.drop(sampleBytes());
  await expect(dataset.format).toHaveText('IDX (MNIST-style)', { timeout: 30_000 });
  await dataset.setLimit(100);
  await shell.next(/2\. Model/);

  await page.getByTestId('train-prune').check();
  await page.getByTestId('train-prune-target').fill('0.5');
  await model.train('vgg-small', 2);

  const marker = page.getByTestId('prune-marker');
  await expect(marker).toHaveText(
    /^structure found at epoch 1 \(no mask distance yet\); network shrank from [\d,]+ to [\d,]+ MACs$/,
    { timeout: 60_000 },
  );
  const [before, after] = [...(await marker.textContent())!.matchAll(/[\d,]{4,}/g)].map((m) =>
    Number(m[0].replaceAll(',', '')),
  );
  expect(after!).toBeLessThan(before! * 0.55);
  await expectJobDone(model.trainPhase, page.getByTestId('train-error'), 80_000);
  await expect(page.getByTestId('prune-saving')).toHaveText(NO_DENSE_RUN);
});
