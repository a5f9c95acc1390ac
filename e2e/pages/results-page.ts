/** Step 5: the before/after table; each cell carries the exact number it shows in `data-value`. */
import type { Locator, Page } from '@playwright/test';

export const RESULT_KEYS = [
  'accuracy',
  'params',
  'macs',
  'sizeBytes',
  'sizeGzipBytes',
  'latencyBatch1Ms',
  'latencyBatch32Ms',
  'inferenceEnergy',
  'trainingEnergy',
  'opCountEnergy',
] as const;
export type ResultKey = (typeof RESULT_KEYS)[number];

export class ResultsPage {
  readonly table: Locator;
  readonly layerNames: Locator;

  constructor(readonly page: Page) {
    this.table = page.getByTestId('results-table');
    this.layerNames = page.getByTestId('result-layer-name');
  }

  cell(key: string, side: 'before' | 'after'): Locator {
    return this.page.getByTestId(`result-${key}-${side}`);
  }

  /** The number behind a cell, or null where the screen shows none. */
  async value(key: string, side: 'before' | 'after'): Promise<number | null> {
    const raw = await this.cell(key, side).getAttribute('data-value');
    return raw === null ? null : Number(raw);
  }
}
