/**
 * Names the Electron preload and main process agree on. Kept apart from api.ts (which builds
 * zod schemas) so the sandboxed preload bundle carries no validation library.
 */
import type { PollardApi } from './api';

/** The methods of PollardApi that are calls or the job event stream (the preload exposes these and onMenuCommand). */
const API_METHOD_SET = {
  getSystemInfo: true,
  getSettings: true,
  updateSettings: true,
  pickPath: true,
  resolveFiles: true,
  describeDataset: true,
  inspectModel: true,
  planCompression: true,
  startJob: true,
  cancelJob: true,
  listJobs: true,
  subscribe: true,
  listRuns: true,
  getRun: true,
  getRunEvents: true,
  resumeRun: true,
  exportRun: true,
  openFolder: true,
  openReport: true,
} as const satisfies Record<Exclude<keyof PollardApi, 'onMenuCommand'>, true>;
export const POLLARD_API_METHODS = Object.keys(API_METHOD_SET) as (keyof typeof API_METHOD_SET)[];

/** IPC channel of a method in Electron. */
export const ipcChannel = (method: string): string => `pollard:${method}`;
/** Main → renderer: one JobMessage per event. */
export const JOB_MESSAGE_CHANNEL = 'pollard:job-message';
/** Renderer → main: the buffered events of queued/running jobs, so a reloaded window recovers. */
export const REPLAY_CHANNEL = 'pollard:replay';
/** Main → renderer: a MenuCommand from the application menu. */
export const MENU_CHANNEL = 'pollard:menu';
