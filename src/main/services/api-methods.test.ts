import { describe, expect, it } from 'vitest';
import { POLLARD_API_METHODS } from '../../shared/api';
import { API_ARGUMENTS, dispatchApiCall, isApiMethod, parseApiArguments } from './api-methods';

describe('API argument schemas', () => {
  it('cover every PollardApi method that crosses a process boundary, plus finishUpload', () => {
    const crossing = POLLARD_API_METHODS.filter((m) => m !== 'subscribe');
    expect(Object.keys(API_ARGUMENTS).sort()).toEqual([...crossing, 'finishUpload'].sort());
    expect(isApiMethod('constructor')).toBe(false);
    expect(isApiMethod('__proto__')).toBe(false);
    expect(isApiMethod('getRun')).toBe(true);
  });

  it('explain a bad argument in one line naming the method and the field', () => {
    expect(() => parseApiArguments('updateSettings', [{ pue: 9 }])).toThrow(
      'updateSettings: pue: Too big: expected number to be <=5',
    );
    expect(() => parseApiArguments('updateSettings', [{ colour: 'red' }])).toThrow(
      'updateSettings: Unrecognized key: "colour"',
    );
    expect(() => parseApiArguments('getRun', ['runs/x'])).toThrow('getRun: must be an absolute path');
    expect(() => parseApiArguments('getRun', [])).toThrow('getRun: expected 1 argument, got 0');
    expect(() => parseApiArguments('listRuns', [1])).toThrow('listRuns: expected 0 arguments, got 1');
    expect(() => parseApiArguments('listRuns', { 0: 1 })).toThrow('listRuns: the arguments must be an array');
    expect(() =>
      parseApiArguments('startJob', [{ kind: 'train', data: '/d', arch: 'lenet', training: { epochs: 0 } }]),
    ).toThrow('startJob: training.epochs: Too small: expected number to be >=1');
    expect(() => parseApiArguments('startJob', [{ kind: 'shell', command: 'rm -rf /' }])).toThrow(
      /^startJob: kind: Invalid discriminator value\. Expected 'train' \| 'evaluate' \| /,
    );
  });

  it('let the UI leave out a run folder, but not a dataset', () => {
    const [spec] = parseApiArguments('startJob', [{ kind: 'train', data: '/d', arch: 'lenet' }]);
    expect(spec).toMatchObject({ kind: 'train', data: '/d', arch: 'lenet', backend: 'auto', seed: 42 });
    expect(spec).not.toHaveProperty('out');
    expect(() => parseApiArguments('startJob', [{ kind: 'train', arch: 'lenet' }])).toThrow(
      /^startJob: data: /,
    );
  });
});

describe('dispatchApiCall', () => {
  it('returns the value, or the error as data without its stack', async () => {
    const handlers = {
      getRun: async (dir: string) => ({ dir }),
      listRuns: async () => {
        throw new Error('boom\n  at somewhere');
      },
    };
    expect(await dispatchApiCall(handlers, 'getRun', ['/r'])).toEqual({ ok: true, value: { dir: '/r' } });
    expect(await dispatchApiCall(handlers, 'getRun', ['r'])).toEqual({
      ok: false,
      error: { code: 'usage', message: 'getRun: must be an absolute path', file: undefined },
    });
    expect(await dispatchApiCall(handlers, 'listRuns', [])).toEqual({
      ok: false,
      error: { code: 'internal', message: 'boom' },
    });
    expect(await dispatchApiCall(handlers, 'listJobs', [])).toEqual({
      ok: false,
      error: { code: 'usage', message: 'listJobs: not available here', file: undefined },
    });
  });

  it('never calls the handler when validation fails', async () => {
    let called = false;
    const handlers = {
      cancelJob: async () => {
        called = true;
      },
    };
    const response = await dispatchApiCall(handlers, 'cancelJob', [42]);
    expect(response.ok).toBe(false);
    expect(called).toBe(false);
  });
});
