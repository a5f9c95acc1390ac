/**
 * PollardApi over the Electron preload: `window.pollard` has one function per method. The
 * preload rejects with SerializedError data (contextBridge keeps only an Error's message), so
 * every rejection is rebuilt here as a PollardError.
 */
import { errorFromBridge, POLLARD_API_METHODS, type PollardApi } from '../../../shared/api';

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

export function createElectronBridge(exposed: PollardApi): PollardApi {
  const bridge: Partial<Record<keyof PollardApi, unknown>> = {};
  for (const method of POLLARD_API_METHODS) {
    if (method === 'subscribe') continue;
    const target = exposed[method] as unknown as AsyncMethod;
    bridge[method] = (...args: unknown[]) =>
      target(...args).catch((reason: unknown) => {
        throw errorFromBridge(reason);
      });
  }
  bridge.subscribe = (listener: Parameters<PollardApi['subscribe']>[0]) => exposed.subscribe(listener);
  return bridge as PollardApi;
}
