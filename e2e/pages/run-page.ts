/** Step 4: the running job: phase, epoch/batch, cancel and resume, backend badge, log. */
import type { Locator, Page } from '@playwright/test';

export class RunPage {
  readonly progress: Locator;
  readonly phase: Locator;
  readonly batch: Locator;
  readonly epoch: Locator;
  readonly backend: Locator;
  readonly runDir: Locator;
  readonly log: Locator;

  constructor(readonly page: Page) {
    this.progress = page.getByTestId('run-progress');
    this.phase = page.getByTestId('run-progress-phase');
    this.batch = page.getByTestId('run-progress-batch');
    this.epoch = page.getByTestId('run-progress-epoch');
    this.backend = page.getByTestId('backend-badge');
    this.runDir = page.getByTestId('run-dir');
    this.log = page.getByTestId('log-panel');
  }

  async cancel(): Promise<void> {
    await this.page.getByTestId('run-progress-cancel').click();
  }

  async resume(): Promise<void> {
    await this.page.getByTestId('run-resume').click();
  }

  async seeResults(): Promise<void> {
    await this.page.getByTestId('see-results').click();
  }
}
