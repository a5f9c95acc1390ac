/**
 * Prints why each skipped test was skipped (the list reporter shows only a dash), so a run
 * without an Electron binary says "skipped: no Electron binary" in its output.
 */
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SkipReasonReporter implements Reporter {
  private readonly reasons = new Map<string, number>();

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    const reason = test.annotations.find((a) => a.type === 'skip')?.description ?? 'skipped';
    const project = test.parent.project()?.name ?? '';
    const key = `[${project}] ${reason}`;
    this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
  }

  onEnd(): void {
    for (const [key, count] of this.reasons) console.log(`${key} (${count} test${count === 1 ? '' : 's'})`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
