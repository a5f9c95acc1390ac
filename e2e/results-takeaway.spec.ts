/**
 * Results a browser user can take away from `pollard serve`: a finished compress run opened
 * from Recent runs is exported; every written file is a download link that delivers the file's
 * bytes, "Download all (zip)" delivers the export and report as one zip, "Open report" opens
 * the HTML report in a new tab, and a path that leaves the run folder is refused.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { downloadUrlPath } from '../src/shared/api';
import { expect, test } from './fixtures';
import { ExportPage } from './pages/export-page';
import { writeCompressRun } from './pages/run-fixtures';
import { Shell } from './pages/shell';

test('exported files, the zip and the report come to the browser', async ({ app }) => {
  test.skip(app.kind !== 'web', 'downloads are the browser host’s; Electron opens the folder');
  test.skip(!app.dataDir, 'needs the data folder of the server under test (POLLARD_E2E_DATA_DIR)');
  const { page } = app;
  const shell = new Shell(app);
  const exporter = new ExportPage(page);
  const { dir } = await writeCompressRun(path.join(app.dataDir!, 'runs'), 'compress-takeaway');

  await shell.view('runs').click();
  await page
    .locator(`[data-testid="run-row"][data-dir="${dir}"]`)
    .getByRole('button', { name: 'Open' })
    .click();
  await expect(shell.title).toHaveText('5. Results');

  await test.step('the charts step by 1, 2 or 5 in their unit and keep every label', async () => {
    const chart = (title: string) =>
      page
        .getByTestId('results-chart')
        .filter({ has: page.getByRole('heading', { name: title, exact: true }) });
    // File sizes 250,471 / 29,315 bytes, gzipped 229,446 / 23,069: up to 244.6 KiB.
    await expect(chart('Size').locator('figure')).toHaveAttribute(
      'data-ticks',
      '0 KiB | 100 KiB | 200 KiB | 300 KiB',
    );
    await expect(chart('Size').locator('figure')).toHaveAttribute('data-labels', 'file | gzipped');
    // Latency 0.25 / 0.2 ms at batch 1, 6 / 1.5 ms at batch 32.
    await expect(chart('Latency').locator('figure')).toHaveAttribute(
      'data-ticks',
      '0 ms | 2 ms | 4 ms | 6 ms',
    );
    await expect(chart('Latency').locator('figure')).toHaveAttribute('data-labels', 'batch 1 | batch 32');
    await expect(chart('MACs').locator('figure')).toHaveAttribute(
      'data-ticks',
      '0 k | 100 k | 200 k | 300 k | 400 k',
    );
    await expect(chart('Inference energy').locator('figure')).toHaveAttribute(
      'data-labels',
      'per 1,000 samples',
    );
  });
  await shell.goto('export', /6\. Export/);
  await expect(page.getByTestId('open-folder')).toHaveCount(0);
  await exporter.setFormats(['tfjs'], ['html', 'json']);
  await exporter.export();
  await expect(exporter.files).toHaveText(
    [
      path.join(dir, 'export/model/model.json'),
      path.join(dir, 'export/model/weights.bin'),
      path.join(dir, 'export/report.json'),
      path.join(dir, 'export/report.html'),
    ],
    { timeout: 120_000 },
  );

  await test.step('each file is a link that downloads it', async () => {
    const link = exporter.files.filter({ hasText: 'model.json' });
    await expect(link).toHaveAttribute('href', downloadUrlPath(dir, 'export/model/model.json'));
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('model.json');
    expect(readFileSync(await download.path())).toEqual(
      readFileSync(path.join(dir, 'export/model/model.json')),
    );
  });

  await test.step('the zip holds the export and the report', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-zip').click(),
    ]);
    expect(download.suggestedFilename()).toBe('compress-takeaway-export.zip');
    const entries = unzipSync(new Uint8Array(readFileSync(await download.path())));
    const names = Object.keys(entries).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'compress-takeaway/export/model/model.json',
        'compress-takeaway/export/model/weights.bin',
        'compress-takeaway/export/report.html',
        'compress-takeaway/export/report.json',
      ]),
    );
    expect(Buffer.from(entries['compress-takeaway/export/report.html']!)).toEqual(
      readFileSync(path.join(dir, 'export/report.html')),
    );
  });

  await test.step('Open report shows the HTML report in a new tab', async () => {
    const [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByTestId('open-report').click(),
    ]);
    await tab.waitForLoadState();
    expect(tab.url()).toContain(downloadUrlPath(dir, 'export/report.html', true));
    const report = readFileSync(path.join(dir, 'export/report.html'), 'utf8');
    const title = /<title>([^<]*)<\/title>/.exec(report)![1]!;
    await expect(tab).toHaveTitle(title.replaceAll('&amp;', '&'));
    await tab.close();
  });

  await test.step('a path out of the run folder is refused', async () => {
    const origin = new URL(page.url()).origin;
    const raw = `${origin}/api/download?run=${encodeURIComponent(dir)}&file=${encodeURIComponent('../../settings.json')}`;
    const refused = await page.request.get(raw);
    expect(refused.status()).toBe(400);
    expect(await refused.text()).toBe('download: file must not have empty, "." or ".." segments\n');
    const outside = await page.request.get(`${origin}${downloadUrlPath('/etc', 'passwd')}`);
    expect(outside.status()).toBe(404);
    expect(await outside.text()).toBe('download: /etc is not a Pollard run folder\n');
  });
});
