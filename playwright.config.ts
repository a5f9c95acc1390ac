/**
 * End-to-end tests. Project `web` drives the real UI in Debian's Chromium against a real
 * `pollard serve` (started in e2e/global-setup.ts, on a free port, with a temporary data
 * folder) and real job processes. Project `electron` runs the same specs in the Electron app
 * wherever an Electron binary exists, and reports "skipped: no Electron binary" elsewhere.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  // The specs share one server and its job queue (one job at a time): run them one by one.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 9 * 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['./e2e/skip-reporter.ts']],
  outputDir: 'test-results',
  use: {
    viewport: { width: 1280, height: 860 },
    actionTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  // The `app` fixture (e2e/fixtures.ts) launches Chromium or Electron itself, by project name.
  projects: [{ name: 'web' }, { name: 'electron' }],
});
