/** Step 2: train a baseline (or drop a model) and read its summary and baseline accuracy. */
import type { Locator, Page } from '@playwright/test';

export class ModelPage {
  readonly trainProgress: Locator;
  readonly trainPhase: Locator;
  readonly summary: Locator;
  readonly layerNames: Locator;
  readonly params: Locator;
  readonly macs: Locator;
  readonly baselineAccuracy: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.trainProgress = page.getByTestId('train-progress');
    this.trainPhase = page.getByTestId('train-progress-phase');
    this.summary = page.getByTestId('model-summary');
    this.layerNames = page.getByTestId('layer-name');
    this.params = page.getByTestId('model-params');
    this.macs = page.getByTestId('model-macs');
    this.baselineAccuracy = page.getByTestId('baseline-accuracy');
    this.error = page.getByTestId('model-error');
  }

  async train(arch: string, epochs: number): Promise<void> {
    await this.page.getByTestId('train-arch').selectOption(arch);
    await this.page.getByTestId('train-epochs').fill(String(epochs));
    await this.page.getByTestId('train-start').click();
  }

  async chooseModelFiles(paths: string[]): Promise<void> {
    await this.page.getByTestId('model-file-input').setInputFiles(paths);
  }
}
