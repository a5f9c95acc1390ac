/**
 * PollardApi over the Electron preload: `window.pollard` has one function per method. The
 * preload rejects with SerializedError data (contextBridge keeps only an Error's message), so
 * every rejection is rebuilt here as a PollardError. Event subscriptions return their
 * unsubscribe function synchronously and pass through as they are.
 */
import { errorFromBridge, type PollardApi } from '../../../shared/api';

type AnyFunction = (...args: unknown[]) => unknown;

const SYNCHRONOUS = new Set(['subscribe', 'onMenuCommand']);

export function createElectronBridge(exposed: PollardApi): PollardApi {
  const bridge: Record<string, AnyFunction> = {};
  for (const [name, value] of Object.entries(exposed as unknown as Record<string, unknown>)) {
    if (typeof value !== 'function') continue;
    const target = value as AnyFunction;
    bridge[name] = SYNCHRONOUS.has(name)
      ? (...args) => target(...args)
      : (...args) =>
          Promise.resolve()
            .then(() => target(...args))
            .catch((reason: unknown) => {
              throw errorFromBridge(reason);
            });
  }
  return bridge as unknown as PollardApi;
}
