/**
 * The whole wizard on the bundled sample, against a real `pollard serve` and real jobs:
 * datasets by drag-and-drop and by the file chooser, a LeNet baseline, structured pruning
 * (cancelled once and resumed), results, export; then the exported files are checked on disk,
 * the exported model is reloaded by `pollard inspect`, and the numbers on the Results screen
 * are compared with the exported JSON.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatBytes, formatInt, formatJoules, formatMs, formatPercent } from '../src/renderer/lib/format';
import { expect, test } from './fixtures';
import { idxCount, pollardInspect, reportedFigures, SAMPLE_FILES, sampleBytes } from './helpers';
import { DatasetPage } from './pages/dataset-page';
import { expectJobDone } from './pages/job-end';
import { ExportPage } from './pages/export-page';
import { MethodPage } from './pages/method-page';
import { ModelPage } from './pages/model-page';
import { RESULT_KEYS, type ResultKey, ResultsPage } from './pages/results-page';
import { RunPage } from './pages/run-page';
import { Shell } from './pages/shell';

/** Samples per split for every job: enough to learn something, small enough for CI. */
const LIMIT = 3000;

declare global {
  interface Window {
    __clickLatency?: Promise<{ handled: number; painted: number }>;
  }
}

test('the whole wizard on the bundled sample', async ({ app }) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);
  const model = new ModelPage(page);
  const method = new MethodPage(page);
  const run = new RunPage(page);
  const results = new ResultsPage(page);
  const exporter = new ExportPage(page);

  let modelParams = 0;

  await test.step('dataset by drag and drop', async () => {
    await expect(shell.title).toHaveText('1. Dataset');
    if (app.kind === 'web') await dataset.drop(sampleBytes());
    else await dataset.useSample(); // Electron reads dropped files' paths, which script-made Files lack.
    await expect(dataset.format).toHaveText('IDX (MNIST-style)', { timeout: 60_000 });
    await expect(dataset.classes).toHaveText('10');
    await expect(dataset.trainCount).toHaveText(formatInt(idxCount(SAMPLE_FILES[0]!)));
    await expect(dataset.testCount).toHaveText(formatInt(idxCount(SAMPLE_FILES[2]!)));
    await expect.poll(() => dataset.samples.count()).toBeGreaterThanOrEqual(10);
  });

  await test.step('dataset by the file chooser', async () => {
    if (app.kind === 'web') {
      const uploaded = page.waitForRequest((r) => r.method() === 'PUT' && r.url().includes('/api/upload/'), {
        timeout: 60_000,
      });
      const described = page.waitForResponse((r) => r.url().endsWith('/api/call/describeDataset'), {
        timeout: 120_000,
      });
      await dataset.choose(SAMPLE_FILES);
      await uploaded;
      expect((await (await described).json()).ok).toBe(true);
    }
    await expect(dataset.trainCount).toHaveText(formatInt(idxCount(SAMPLE_FILES[0]!)));
    await expect(dataset.error).toHaveCount(0);
    await dataset.setLimit(LIMIT);
    await shell.screenshot('1-dataset');
  });

  await test.step('train a LeNet baseline, clicking while it trains', async () => {
    await shell.next(/2\. Model/);
    await model.train('lenet', 1);
    await expect(model.trainPhase).toHaveText(/Queued|Running/);
    await expect(page.getByTestId('train-progress-batch')).not.toHaveText('—', { timeout: 120_000 });

    // The UI stays responsive during training: the click's effect (the About view) is in the
    // DOM within 200 ms of the input event. The time to the next frame is recorded too.
    await page.evaluate(() => {
      window.__clickLatency = new Promise((resolve) => {
        let clickedAt: number | undefined;
        document.addEventListener('click', (event) => (clickedAt = event.timeStamp), {
          capture: true,
          once: true,
        });
        const observer = new MutationObserver(() => {
          if (clickedAt === undefined || !document.getElementById('about-title')) return;
          observer.disconnect();
          const handled = performance.now() - clickedAt;
          requestAnimationFrame(() => resolve({ handled, painted: performance.now() - clickedAt! }));
        });
        observer.observe(document.body, { childList: true, subtree: true });
      });
    });
    await shell.view('about').click();
    const latency = await page.evaluate(() => window.__clickLatency!);
    test.info().annotations.push({
      type: 'click latency during training',
      description: `handled in ${latency.handled.toFixed(1)} ms, next frame after ${latency.painted.toFixed(1)} ms`,
    });
    console.log(`click latency during training: ${test.info().annotations.at(-1)!.description}`);
    expect(latency.handled).toBeLessThan(200);
    await shell.view('about').click();
    await expect(shell.title).toHaveText('2. Model');

    await expectJobDone(model.trainPhase, page.getByTestId('train-error'), 300_000);
    await expect(model.summary).toBeVisible({ timeout: 60_000 });
    await expect.poll(() => model.layerNames.count()).toBeGreaterThan(3);
    await expect(model.baselineAccuracy).toHaveText(/^\d+\.\d\d%$/, { timeout: 120_000 });
    modelParams = Number(await model.params.getAttribute('data-value'));
    expect(modelParams).toBeGreaterThan(1000);
    const accuracy = Number(await model.baselineAccuracy.getAttribute('data-value'));
    expect(accuracy).toBeGreaterThan(0.3); // ten classes: chance is 0.1
    await expect(page.getByTestId('chance-hint')).toHaveCount(0);
    await shell.screenshot('2-model');
  });

  await test.step('structured pruning: the plan follows the slider', async () => {
    await shell.next(/3\. Method/);
    await method.choose('structured');
    await method.setTarget('macs', 0.3);
    await expect(method.planMacsAfter).toBeVisible({ timeout: 120_000 });
    const macsAt30 = Number(await method.planMacsAfter.getAttribute('data-value'));
    await method.setTarget('macs', 0.5);
    await expect
      .poll(async () => Number(await method.planMacsAfter.getAttribute('data-value')))
      .toBeLessThan(macsAt30);
    expect(macsAt30).toBeGreaterThan(0);
    // A size target plans by parameters: at 50%, at least half of them go.
    await method.setTarget('params', 0.5);
    await expect
      .poll(async () => Number(await method.planParamsAfter.getAttribute('data-value')), { timeout: 120_000 })
      .toBeLessThanOrEqual(modelParams / 2);
    await method.setTarget('macs', 0.5);
    await expect(method.planMacsAfter).toBeVisible({ timeout: 120_000 });
    // Enough epochs that Cancel lands while fine-tuning on a fast machine (a pruned LeNet epoch takes under a second).
    await method.setFinetuneEpochs(12);
    await method.analyseSensitivity();
    await expect(method.sensitivityChart.or(page.getByTestId('sensitivity-error'))).toBeVisible({
      timeout: 240_000,
    });
    await expect(page.getByTestId('sensitivity-error')).toHaveCount(0);
    await shell.screenshot('3-method');
  });

  await test.step('watch the run, cancel it, resume it', async () => {
    await method.start();
    await expect(shell.title).toHaveText('4. Run');
    await expect(run.backend).toContainText(/wasm|CPU|GPU/, { timeout: 120_000 });
    await expect(run.batch).not.toHaveText('—', { timeout: 240_000 });
    await run.cancel();
    await expect(run.phase).toHaveText('Cancelled', { timeout: 60_000 });
    const runDir = (await run.runDir.textContent())!;
    expect(existsSync(path.join(runDir, 'run.json'))).toBe(true);
    await run.resume();
    await expect(run.phase).toHaveText(/Queued|Running/);
    await expect(run.batch).not.toHaveText('—', { timeout: 240_000 });
    await expect(run.epoch).toHaveText(/^\d+ \/ 12$/);
    await expectJobDone(run.phase, page.getByTestId('run-error'), 420_000);
    await shell.screenshot('4-run');
    // The host writes run.json's final state just after the result event reaches the page.
    await expect
      .poll(() => JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>)
      .toMatchObject({ status: 'completed', resumes: 1 });
  });

  const shown: Record<string, { before: number | null; after: number | null }> = {};
  await test.step('results', async () => {
    await run.seeResults();
    await expect(shell.title).toHaveText('5. Results');
    await expect(results.table).toBeVisible();
    for (const key of RESULT_KEYS)
      shown[key] = { before: await results.value(key, 'before'), after: await results.value(key, 'after') };
    expect(shown.macs!.after!).toBeLessThan(shown.macs!.before!);
    expect(shown.params!.after!).toBeLessThan(shown.params!.before!);
    await expect.poll(() => results.layerNames.count()).toBeGreaterThan(1);
    await shell.screenshot('5-results');
  });

  await test.step('export, then check the files, the model and the numbers', async () => {
    await shell.next(/6\. Export/);
    const target = (await exporter.target.textContent())!.trim();
    await exporter.setFormats(['tfjs', 'keras-h5'], ['json', 'html', 'csv']);
    await exporter.export();
    await expect.poll(() => exporter.files.count(), { timeout: 120_000 }).toBeGreaterThan(1);
    await shell.screenshot('6-export');

    const files = await exporter.files.allTextContents();
    for (const file of files) {
      expect(existsSync(file), file).toBe(true);
      expect(path.resolve(file).startsWith(path.resolve(target)), file).toBe(true);
    }
    await expect(exporter.skipped).toHaveCount(0);
    for (const ending of ['model.json', '.h5', '.html', '.csv'])
      expect(
        files.some((f) => f.endsWith(ending)),
        `an exported ${ending}`,
      ).toBe(true);
    const reportFile = files.find((f) => f.endsWith('.json') && !f.endsWith('model.json'));
    expect(reportFile, 'a JSON report among the exported files').toBeDefined();
    const reported = reportedFigures(JSON.parse(readFileSync(reportFile!, 'utf8')));
    const formats: Record<ResultKey, (n: unknown) => string> = {
      accuracy: (n) => formatPercent(n),
      params: formatInt,
      macs: formatInt,
      sizeBytes: formatBytes,
      sizeGzipBytes: formatBytes,
      latencyBatch1Ms: formatMs,
      latencyBatch32Ms: formatMs,
      inferenceEnergy: formatJoules,
      trainingEnergy: formatJoules,
      opCountEnergy: formatJoules,
    };
    await shell.goto('results', /5\. Results/);
    const compared: string[] = [];
    for (const key of RESULT_KEYS) {
      const figures = reported[key];
      if (!figures) continue;
      compared.push(key);
      for (const [index, side] of (['before', 'after'] as const).entries()) {
        const exported = figures[index]!;
        const onScreen = shown[key]![side];
        if (exported === null) expect(onScreen, `${key} ${side}`).toBeNull();
        else expect(onScreen, `${key} ${side}`).toBeCloseTo(exported, 9);
        if (exported !== null) await expect(results.cell(key, side)).toHaveText(formats[key](exported));
      }
    }
    // The comparison the report leads with is all there.
    expect(compared).toEqual(expect.arrayContaining(RESULT_KEYS.slice(0, 7)));

    const modelJson = files.find((f) => f.endsWith('model.json'));
    expect(modelJson, 'the exported model').toBeDefined();
    const reloaded = await pollardInspect(path.dirname(modelJson!));
    expect(reloaded.params).toBe(shown.params!.after);
    expect(reloaded.macs).toBe(shown.macs!.after);
    expect(statSync(modelJson!).size).toBeGreaterThan(100);

    await shell.goto('export', /6\. Export/);
    // The browser downloads instead (e2e/results-takeaway.spec.ts); Electron opens the folder.
    if (app.kind === 'web') await expect(page.getByTestId('download-zip')).toHaveText('Download all (zip)');
    else await exporter.openFolder();
  });

  await test.step('the run is in Recent runs and opens to the same results', async () => {
    await shell.view('runs').click();
    const row = page.locator('[data-testid="run-row"][data-kind="compress"]').first();
    await expect(row).toContainText('completed');
    await row.getByRole('button', { name: 'Open' }).click();
    await expect(shell.title).toHaveText('5. Results');
    for (const key of RESULT_KEYS) {
      expect(await results.value(key, 'before'), key).toBe(shown[key]!.before);
      expect(await results.value(key, 'after'), key).toBe(shown[key]!.after);
    }
  });
});
