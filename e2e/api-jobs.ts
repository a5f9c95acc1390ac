/** Jobs started and awaited through the HTTP API of pollard serve, for specs that need a run the UI did not start. */
import type { Page } from '@playwright/test';
import { expect } from './fixtures';

type Json = Record<string, unknown>;

async function call<T>(page: Page, method: string, args: unknown[]): Promise<T> {
  const origin = new URL(page.url()).origin;
  const response = await page.request.post(`${origin}/api/call/${method}`, { data: { args } });
  const body = (await response.json()) as { ok: boolean; value: T; error?: unknown };
  expect(body.ok, JSON.stringify(body.error)).toBe(true);
  return body.value;
}

/** Start a job as the UI would; its id and run folder. */
export function startJob(page: Page, spec: Json): Promise<{ jobId: string; runDir: string }> {
  return call(page, 'startJob', [spec]);
}

/** Wait until the job has ended; its final state. */
export async function jobEnd(page: Page, jobId: string, timeout: number): Promise<string> {
  let state = '';
  await expect
    .poll(
      async () => {
        const jobs = await call<{ jobId: string; state: string }[]>(page, 'listJobs', []);
        state = jobs.find((j) => j.jobId === jobId)?.state ?? 'gone';
        return state;
      },
      { timeout, intervals: [500, 1000] },
    )
    .toMatch(/^(completed|failed|cancelled)$/);
  return state;
}
