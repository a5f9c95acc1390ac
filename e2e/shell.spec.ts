/**
 * The window itself: first paint, keyboard-only use with visible focus, no layout shift while
 * a dataset loads, the About view (versions and backends), and the theme setting.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, ROOT, test } from './fixtures';
import { DatasetPage } from './pages/dataset-page';
import { Shell } from './pages/shell';

declare global {
  interface Window {
    __layoutShift?: number;
  }
}

test('first paint, keyboard use, a stable layout, About and the theme setting', async ({ app }) => {
  const { page } = app;
  const shell = new Shell(app);
  const dataset = new DatasetPage(page);

  await test.step('first contentful paint', async () => {
    await page.reload();
    const fcp = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const entry = performance.getEntriesByName('first-contentful-paint')[0];
          if (entry) resolve(entry.startTime);
          else
            new PerformanceObserver((list) => resolve(list.getEntries()[0]!.startTime)).observe({
              type: 'paint',
              buffered: true,
            });
        }),
    );
    console.log(`first contentful paint: ${fcp.toFixed(0)} ms after navigation`);
    expect(fcp).toBeLessThan(2000);
  });

  await test.step('keyboard only, with visible focus and no layout shift', async () => {
    await expect(page.getByTestId('use-sample')).toBeEnabled({ timeout: 60_000 });
    await page.evaluate(() => {
      window.__layoutShift = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as (PerformanceEntry & {
          value: number;
          hadRecentInput: boolean;
        })[])
          if (!entry.hadRecentInput) window.__layoutShift! += entry.value;
      }).observe({ type: 'layout-shift', buffered: false });
    });
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(
        () => document.activeElement?.getAttribute('data-testid') === 'use-sample',
      );
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      expect(outline, 'focus is visible').not.toBe('none');
    }
    expect(reached, 'the sample button is reachable with Tab').toBe(true);
    await page.keyboard.press('Enter');
    await expect(dataset.format).toHaveText('IDX (MNIST-style)', { timeout: 60_000 });
    await expect.poll(() => dataset.samples.count()).toBeGreaterThanOrEqual(10);
    await page.waitForTimeout(500);
    const shift = await page.evaluate(() => window.__layoutShift!);
    console.log(`cumulative layout shift while the dataset loaded: ${shift.toFixed(4)}`);
    expect(shift).toBeLessThan(0.1);

    await page.keyboard.press('Alt+ArrowRight');
    await expect(shell.title).toHaveText('2. Model');
    await expect(shell.title).toBeFocused();
    await page.keyboard.press('Alt+ArrowLeft');
    await expect(shell.title).toHaveText('1. Dataset');
  });

  await test.step('About: versions and backends', async () => {
    await shell.view('about').click();
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    await expect(page.getByTestId('about-version')).toHaveText(version);
    await expect(page.getByTestId('about-backends').locator('tbody tr')).toHaveCount(4);
    await expect(page.getByTestId('about-backends')).toContainText('wasm');
    await shell.screenshot('about');
  });

  await test.step('Settings: the theme follows the setting', async () => {
    await shell.view('settings').click();
    await page.getByTestId('settings-theme').selectOption('dark');
    await page.getByTestId('settings-save').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(22, 24, 27)');
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await shell.screenshot('dataset-dark');
    await shell.view('settings').click();
    await page.getByTestId('settings-theme').selectOption('system');
    await page.getByTestId('settings-save').click();
    await expect(page.locator('html')).not.toHaveAttribute('data-theme', /.*/);
    await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(247, 247, 245)');
  });
});
