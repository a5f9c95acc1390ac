/** Debian's Chromium (Playwright cannot download browsers here) and the flags it runs with. */
import { chromiumArgs, DEFAULT_CHROMIUM_PATH } from '../src/main/engine/report/chromium';

export const CHROMIUM_PATH = DEFAULT_CHROMIUM_PATH;

export const CHROMIUM_ARGS = chromiumArgs();
