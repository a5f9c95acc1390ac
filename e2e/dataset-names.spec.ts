/**
 * Fashion-MNIST's files dropped into the browser land in an upload folder with another name;
 * their names and sizes still give the classes their names, as the CLI does for a data/ folder.
 */
import { FASHION_MNIST_CLASSES as FASHION } from '../src/main/engine/data/class-names';
import { expect, test } from './fixtures';
import { sampleBytes } from './helpers';
import { DatasetPage } from './pages/dataset-page';

test('dropped Fashion-MNIST files keep their class names', async ({ app }) => {
  test.skip(app.kind !== 'web', 'script-made dropped Files have no path in Electron');
  const dataset = new DatasetPage(app.page);
  await dataset.drop(sampleBytes());
  await expect(dataset.classes).toHaveText('10', { timeout: 120_000 });
  await expect.poll(() => dataset.samples.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(10);
  const names = await dataset.samples.evaluateAll((images) =>
    images.map((image) => image.getAttribute('alt')?.replace('A sample of class ', '') ?? ''),
  );
  expect([...new Set(names)].sort()).toEqual([...FASHION].sort());
});
