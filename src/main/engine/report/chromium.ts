/**
 * Flags for a headless Chromium started by Pollard (PDF printing; tests and benchmarks use the
 * same): no background traffic, no first-run work. The sandbox is switched off only for root,
 * where Chromium refuses to start with it (containers, CI).
 */
export const CHROMIUM_QUIET_ARGS: readonly string[] = [
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumArgs(uid: number | undefined = process.getuid?.()): string[] {
  return [...(uid === 0 ? ['--no-sandbox'] : []), ...CHROMIUM_QUIET_ARGS];
}

/** Debian's Chromium unless POLLARD_CHROMIUM names another. */
export const DEFAULT_CHROMIUM_PATH = process.env.POLLARD_CHROMIUM ?? '/usr/bin/chromium';
