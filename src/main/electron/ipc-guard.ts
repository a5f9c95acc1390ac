/**
 * The checks every IPC call passes before anything runs (SECURITY.md item 21), as plain
 * functions so they are tested without Electron: the sending frame must be Pollard's own
 * top-level renderer page, and every argument must match its schema.
 */
import type { ApiResponse } from '../../shared/api';
import { type ApiHandlers, type ApiMethod, dispatchApiCall } from '../services/api-methods';

/** The renderer is served from this privileged scheme and host (see app-protocol.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'pollard';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

export interface SenderFrame {
  url: string;
  /** null for the top-level frame. */
  parent: unknown;
}

/** A frame of Pollard's own renderer: `app://pollard/…`, top level (no iframes). */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  return (
    url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === ''
  );
}

/** One IPC call: sender check, then schema validation, then the handler; errors as data. */
export async function handleIpcCall(
  handlers: ApiHandlers,
  method: ApiMethod,
  frame: SenderFrame | null | undefined,
  args: unknown[],
): Promise<ApiResponse> {
  if (!isTrustedSender(frame)) {
    return {
      ok: false,
      error: {
        code: 'usage',
        message: `${method}: refused: the call did not come from Pollard's own window`,
      },
    };
  }
  return dispatchApiCall(handlers, method, args);
}
