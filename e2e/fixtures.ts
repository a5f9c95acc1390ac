/**
 * The `app` fixture: the Pollard window under test. Project `web`: Debian's Chromium on the
 * URL `pollard serve` printed. Project `electron`: the Electron app, where a binary exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { _electron, test as base, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { electronBinary, NO_ELECTRON } from './electron-binary';

export const ROOT = path.resolve(import.meta.dirname, '..');
/**
 * Where each step's screenshot goes: test-results/screenshots on every run, and the README's
 * docs/screenshots (committed) when POLLARD_UPDATE_SCREENSHOTS=1, so a test run leaves the
 * working tree clean.
 */
export const SCREENSHOTS = process.env.POLLARD_UPDATE_SCREENSHOTS
  ? path.join(ROOT, 'docs/screenshots')
  : path.join(ROOT, 'test-results/screenshots');

export interface App {
  page: Page;
  kind: 'web' | 'electron';
  /** The data folder the host uses (runs, uploads, settings). */
  dataDir: string | undefined;
}

function electronMain(): string | null {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main?: string };
  const main = manifest.main ? path.join(ROOT, manifest.main) : null;
  return main && existsSync(main) ? main : null;
}

export const test = base.extend<{ app: App }>({
  app: async ({ playwright }, use, testInfo) => {
    if (testInfo.project.name === 'electron') {
      const binary = electronBinary();
      test.skip(binary === null, NO_ELECTRON);
      const main = electronMain();
      test.skip(main === null, 'skipped: no Electron build (run npm run build)');
      const electronApp = await _electron.launch({
        executablePath: binary!,
        args: [main!],
        env: {
          ...process.env,
          ...(process.env.POLLARD_E2E_DATA_DIR ? { POLLARD_DATA_DIR: process.env.POLLARD_E2E_DATA_DIR } : {}),
        } as Record<string, string>,
      });
      const page = await electronApp.firstWindow();
      await use({ page, kind: 'electron', dataDir: process.env.POLLARD_E2E_DATA_DIR });
      await electronApp.close();
      return;
    }
    const url = process.env.POLLARD_E2E_URL;
    if (!url) throw new Error('POLLARD_E2E_URL is not set: the global setup did not start pollard serve');
    const browser = await playwright.chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(url);
    await use({ page, kind: 'web', dataDir: process.env.POLLARD_E2E_DATA_DIR });
    await browser.close();
  },
});

export { expect } from '@playwright/test';
