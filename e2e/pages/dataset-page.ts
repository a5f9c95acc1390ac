/** Step 1: drop or choose a dataset, or use the bundled sample; read what the app shows about it. */
import type { Locator, Page } from '@playwright/test';
import { expect } from '../fixtures';

export interface FileBytes {
  name: string;
  bytes: Buffer;
}

export class DatasetPage {
  readonly dropzone: Locator;
  readonly details: Locator;
  readonly format: Locator;
  readonly classes: Locator;
  readonly trainCount: Locator;
  readonly testCount: Locator;
  readonly samples: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.dropzone = page.getByTestId('dataset-dropzone');
    this.details = page.getByTestId('dataset-details');
    this.format = page.getByTestId('dataset-format');
    this.classes = page.getByTestId('dataset-classes');
    this.trainCount = page.getByTestId('dataset-train-count');
    this.testCount = page.getByTestId('dataset-test-count');
    this.samples = page.getByTestId('sample-grid').locator('img');
    this.error = page.getByTestId('dataset-error');
  }

  /**
   * Drop real files: build File objects in the page from the given bytes and dispatch
   * dragenter, dragover and drop events whose DataTransfer carries them.
   */
  async drop(files: FileBytes[]): Promise<void> {
    const payload = files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') }));
    await this.dropzone.evaluate((zone, items) => {
      const transfer = new DataTransfer();
      for (const item of items) {
        const binary = atob(item.base64);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        transfer.items.add(new File([bytes], item.name, { type: 'application/gzip' }));
      }
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, payload);
  }

  async choose(paths: string[]): Promise<void> {
    await this.page.getByTestId('dataset-file-input').setInputFiles(paths);
  }

  async useSample(): Promise<void> {
    await expect(this.page.getByTestId('use-sample')).toBeEnabled({ timeout: 60_000 });
    await this.page.getByTestId('use-sample').click();
  }

  async setLimit(samples: number): Promise<void> {
    await this.page.getByTestId('limit').fill(String(samples));
  }
}
