/** Step 3's plan before Run (achieved figure, per-layer table) and the Advanced options. */
import type { Locator, Page } from '@playwright/test';

export class PlanPage {
  readonly achieved: Locator;
  readonly same: Locator;
  readonly layers: Locator;
  readonly advanced: Locator;

  constructor(readonly page: Page) {
    this.achieved = page.getByTestId('plan-achieved');
    this.same = page.getByTestId('plan-same');
    this.layers = page.getByTestId('plan-layer');
    this.advanced = page.getByTestId('advanced');
  }

  layer(name: string): Locator {
    return this.page.locator(`[data-testid="plan-layer"][data-layer="${name}"]`);
  }

  /** "8 → 3" etc. for one layer: channels, parameters, MACs. */
  async row(name: string): Promise<[string, string, string]> {
    const row = this.layer(name);
    return [
      (await row.getByTestId('plan-channels').innerText()).trim(),
      (await row.getByTestId('plan-params').innerText()).trim(),
      (await row.getByTestId('plan-macs').innerText()).trim(),
    ];
  }

  async openAdvanced(): Promise<void> {
    if (!(await this.advanced.evaluate((d) => (d as HTMLDetailsElement).open)))
      await this.advanced.locator('summary').click();
  }

  field(testid: string): Locator {
    return this.page.getByTestId(testid);
  }
}
