/** Wait for a job shown in the UI to end, and fail at once (with its error) when it did not complete. */
import type { Locator } from '@playwright/test';
import { expect } from '../fixtures';

export async function expectJobDone(phase: Locator, error: Locator, timeout: number): Promise<void> {
  await expect(phase).toHaveText(/^(Done|Failed|Cancelled)$/, { timeout });
  const ended = await phase.textContent();
  const message = (await error.count()) > 0 ? await error.first().textContent() : '';
  expect(ended, `the job ended "${ended}": ${message}`).toBe('Done');
}
