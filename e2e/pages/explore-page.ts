/** Step 3's Explore disclosure: targets, brief fine-tuning, Run explore, its progress, charts and table. */
import type { Locator, Page } from '@playwright/test';

export class ExplorePage {
  readonly panel: Locator;
  readonly rows: Locator;
  readonly progress: Locator;
  readonly phase: Locator;
  readonly picked: Locator;
  readonly macsChart: Locator;
  readonly latencyChart: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('explore');
    this.rows = page.getByTestId('explore-row');
    this.progress = page.getByTestId('explore-progress');
    this.phase = page.getByTestId('explore-progress-phase');
    this.picked = page.getByTestId('explore-picked');
    this.macsChart = page.getByTestId('explore-chart-macs');
    this.latencyChart = page.getByTestId('explore-chart-latency');
  }

  async open(): Promise<void> {
    if (!(await this.panel.evaluate((d) => (d as HTMLDetailsElement).open)))
      await this.panel.locator('summary').click();
  }

  chip(target: number): Locator {
    return this.page.locator(`[data-testid="explore-chip"][data-target="${target}"]`);
  }

  /** Press the chips so exactly `targets` are chosen. */
  async chooseTargets(targets: number[]): Promise<void> {
    for (const chip of await this.page.getByTestId('explore-chip').all()) {
      const wanted = targets.includes(Number(await chip.getAttribute('data-target')));
      if ((await chip.getAttribute('aria-pressed')) !== String(wanted)) await chip.click();
    }
  }

  async setEpochs(epochs: number): Promise<void> {
    await this.page.getByTestId('explore-epochs').fill(String(epochs));
  }

  async run(): Promise<void> {
    await this.page.getByTestId('explore-run').click();
  }

  /**
   * Cancel while the run goes on. Its progress grows with every event, so the button keeps moving
   * and never counts as stable; waiting for that let a short run end first. Clicked where it is.
   */
  async cancel(): Promise<void> {
    await this.page.getByTestId('explore-progress-cancel').click({ force: true });
  }

  /** Click a pruned point where the chart drew it (its data-drawn attribute: "0.2@334,228 …"). */
  async clickPoint(chart: Locator, target: number): Promise<void> {
    const drawn = (await chart.getAttribute('data-drawn')) ?? '';
    const at = drawn.split(' ').find((entry) => entry.startsWith(`${target}@`));
    if (!at) throw new Error(`no point for ${target} in "${drawn}"`);
    const [x, y] = at.split('@')[1]!.split(',').map(Number);
    await chart.locator('canvas').click({ position: { x: x!, y: y! } });
  }

  row(target: number): Locator {
    return this.page.locator(`[data-testid="explore-row"][data-target="${target}"]`);
  }

  /** Each row's cell texts, for exact comparison. */
  column(testid: string): Locator {
    return this.rows.getByTestId(testid);
  }
}
