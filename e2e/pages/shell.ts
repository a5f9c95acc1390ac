/** The window around the steps: step navigation, Back/Next, the side views, screenshots. */
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { type App, expect, SCREENSHOTS } from '../fixtures';

export type StepName = 'dataset' | 'model' | 'method' | 'run' | 'results' | 'export';

export class Shell {
  readonly page: Page;

  constructor(readonly app: App) {
    this.page = app.page;
  }

  stepButton(step: StepName): Locator {
    return this.page.getByTestId(`step-${step}`);
  }

  get title(): Locator {
    return this.page.getByTestId('step-title');
  }

  async next(expectedTitle: RegExp): Promise<void> {
    await expect(this.page.getByTestId('next')).toBeEnabled();
    await this.page.getByTestId('next').click();
    await expect(this.title).toHaveText(expectedTitle);
  }

  async goto(step: StepName, expectedTitle: RegExp): Promise<void> {
    await this.stepButton(step).click();
    await expect(this.title).toHaveText(expectedTitle);
  }

  view(name: 'runs' | 'settings' | 'about'): Locator {
    return this.page.getByTestId(`view-${name}`);
  }

  /** A screenshot of the current screen (see SCREENSHOTS); only the web project takes them. */
  async screenshot(name: string): Promise<void> {
    if (this.app.kind !== 'web') return;
    // Let throttled charts draw their last update.
    await this.page.waitForTimeout(400);
    await this.page.screenshot({
      path: path.join(SCREENSHOTS, `${name}.png`),
      fullPage: true,
      animations: 'disabled',
      // A full-page capture keeps sticky elements where the viewport ended: put the footer last.
      style: 'footer { position: static !important; }',
    });
  }
}
