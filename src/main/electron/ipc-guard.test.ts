import { describe, expect, it } from 'vitest';
import { handleIpcCall, isTrustedSender } from './ipc-guard';

const top = (url: string) => ({ url, parent: null });

describe('IPC sender check', () => {
  it("trusts only Pollard's own top-level page", () => {
    expect(isTrustedSender(top('app://pollard/index.html'))).toBe(true);
    expect(isTrustedSender(top('app://pollard/'))).toBe(true);
    for (const url of [
      'https://pollard/index.html',
      'file:///home/u/index.html',
      'app://evil/index.html',
      'app://pollard.evil/index.html',
      'app://user:pw@pollard/index.html',
      'http://127.0.0.1:7878/',
      'about:blank',
      '',
      'not a url',
    ]) {
      expect(isTrustedSender(top(url)), url).toBe(false);
    }
    expect(isTrustedSender({ url: 'app://pollard/index.html', parent: {} })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });

  it('refuses a foreign sender before validating or running anything', async () => {
    let calls = 0;
    const handlers = {
      getRun: async (dir: string) => {
        calls += 1;
        return { dir };
      },
    };
    expect(await handleIpcCall(handlers, 'getRun', top('https://evil.example/'), ['/r'])).toEqual({
      ok: false,
      error: { code: 'usage', message: "getRun: refused: the call did not come from Pollard's own window" },
    });
    expect(calls).toBe(0);
    expect(await handleIpcCall(handlers, 'getRun', top('app://pollard/index.html'), [{ $gt: '' }])).toEqual({
      ok: false,
      error: {
        code: 'usage',
        message: 'getRun: Invalid input: expected string, received object',
        file: undefined,
      },
    });
    expect(calls).toBe(0);
    expect(await handleIpcCall(handlers, 'getRun', top('app://pollard/index.html'), ['/r'])).toEqual({
      ok: true,
      value: { dir: '/r' },
    });
    expect(calls).toBe(1);
  });
});
