/** Step 6: formats, Export, the files written, Open folder. */
import type { Locator, Page } from '@playwright/test';

export class ExportPage {
  readonly target: Locator;
  readonly files: Locator;
  readonly skipped: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.target = page.getByTestId('export-target');
    this.files = page.getByTestId('exported-file');
    this.skipped = page.getByTestId('export-skipped');
    this.error = page.getByTestId('export-error');
  }

  async setFormats(model: string[], reports: string[]): Promise<void> {
    for (const format of ['tfjs', 'keras-h5'])
      await this.page.getByTestId(`model-format-${format}`).setChecked(model.includes(format));
    for (const format of ['html', 'pdf', 'json', 'csv'])
      await this.page.getByTestId(`report-format-${format}`).setChecked(reports.includes(format));
  }

  async export(): Promise<void> {
    await this.page.getByTestId('export-start').click();
  }

  async openFolder(): Promise<void> {
    await this.page.getByTestId('open-folder').click();
  }
}
