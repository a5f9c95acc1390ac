import { describe, expect, it } from 'vitest';
import { POLLARD_API_METHODS, type PollardApi } from '../../../shared/api';
import { PollardError } from '../../../shared/errors';
import { createElectronBridge } from './electron-bridge';

describe('createElectronBridge', () => {
  it('forwards every method and rebuilds rejections as PollardError', async () => {
    const calls: [string, unknown[]][] = [];
    const exposed = Object.fromEntries(
      POLLARD_API_METHODS.map((method) => [
        method,
        method === 'subscribe'
          ? () => () => undefined
          : async (...args: unknown[]) => {
              calls.push([method, args]);
              if (method === 'inspectModel')
                throw {
                  code: 'unsupported',
                  message: '/m/model.pt: PyTorch pickles are refused',
                  file: '/m/model.pt',
                };
              return method;
            },
      ]),
    ) as unknown as PollardApi;
    const bridge = createElectronBridge(exposed);
    for (const method of POLLARD_API_METHODS) expect(typeof bridge[method]).toBe('function');
    await expect(bridge.getRun('/runs/a')).resolves.toBe('getRun');
    expect(calls).toEqual([['getRun', ['/runs/a']]]);
    const error = await bridge.inspectModel('/m/model.pt').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollardError);
    expect(error).toMatchObject({ code: 'unsupported', file: '/m/model.pt' });
    expect(typeof bridge.subscribe(() => undefined)).toBe('function');
  });
});
