import { describe, expect, it } from 'vitest';
import type { PollardApi } from '../../../shared/api';
import { PollardError } from '../../../shared/errors';
import { createElectronBridge } from './electron-bridge';

const CALLS = [
  'getSystemInfo',
  'getSettings',
  'updateSettings',
  'pickPath',
  'resolveFiles',
  'describeDataset',
  'inspectModel',
  'planCompression',
  'startJob',
  'cancelJob',
  'listJobs',
  'listRuns',
  'getRun',
  'resumeRun',
  'exportRun',
  'openFolder',
] as const;

describe('createElectronBridge', () => {
  it('forwards every call and rebuilds rejections (SerializedError data) as PollardError', async () => {
    const calls: [string, unknown[]][] = [];
    const unsubscribe = (): void => undefined;
    const exposed: Record<string, unknown> = {
      subscribe: () => unsubscribe,
      onMenuCommand: () => unsubscribe,
    };
    for (const method of CALLS) {
      exposed[method] = async (...args: unknown[]) => {
        calls.push([method, args]);
        if (method === 'inspectModel')
          throw {
            code: 'unsupported',
            message: '/m/model.pt: PyTorch pickles are refused',
            file: '/m/model.pt',
          };
        if (method === 'cancelJob') throw new Error('Error invoking remote method: boom');
        return method;
      };
    }
    const bridge = createElectronBridge(exposed as unknown as PollardApi);
    for (const method of CALLS) expect(typeof bridge[method]).toBe('function');

    await expect(bridge.getRun('/runs/a')).resolves.toBe('getRun');
    expect(calls).toEqual([['getRun', ['/runs/a']]]);

    const refused = await bridge.inspectModel('/m/model.pt').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PollardError);
    expect(refused).toMatchObject({
      code: 'unsupported',
      message: '/m/model.pt: PyTorch pickles are refused',
      file: '/m/model.pt',
    });
    const crashed = await bridge.cancelJob('j').catch((e: unknown) => e);
    expect(crashed).toMatchObject({ code: 'internal', message: 'Error invoking remote method: boom' });

    expect(bridge.subscribe(() => undefined)).toBe(unsubscribe);
    expect(bridge.onMenuCommand?.(() => undefined)).toBe(unsubscribe);
  });

  it('leaves out what the preload does not expose', () => {
    const bridge = createElectronBridge({ listRuns: async () => [] } as unknown as PollardApi);
    expect(Object.keys(bridge)).toEqual(['listRuns']);
  });
});
