/** Debian's Chromium (Playwright cannot download browsers here) and the flags it runs with. */
export const CHROMIUM_PATH = process.env.POLLARD_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
