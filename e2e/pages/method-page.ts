/** Step 3: method, target slider with the live plan, fine-tuning epochs, sensitivity. */
import type { Locator, Page } from '@playwright/test';

export class MethodPage {
  readonly planMacsAfter: Locator;
  readonly planParamsAfter: Locator;
  readonly sensitivityChart: Locator;

  constructor(readonly page: Page) {
    this.planMacsAfter = page.getByTestId('plan-macs-after');
    this.planParamsAfter = page.getByTestId('plan-params-after');
    this.sensitivityChart = page.getByRole('img', { name: 'Accuracy of each layer pruned at each ratio' });
  }

  async choose(method: string): Promise<void> {
    await this.page.getByTestId(`method-${method}`).check();
  }

  async setTarget(by: 'macs' | 'params', fraction: number): Promise<void> {
    await this.page.getByTestId(`target-by-${by}`).check();
    await this.page.getByTestId('target').fill(String(fraction));
  }

  async setFinetuneEpochs(epochs: number): Promise<void> {
    await this.page.getByTestId('finetune-epochs').fill(String(epochs));
  }

  async analyseSensitivity(): Promise<void> {
    await this.page.getByTestId('analyse-sensitivity').click();
  }

  async start(): Promise<void> {
    await this.page.getByTestId('start-compression').click();
  }
}
