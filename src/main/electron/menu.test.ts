import { describe, expect, it } from 'vitest';
import { buildMenuTemplate } from './menu';

describe('application menu', () => {
  it('offers reload and developer tools only in development', () => {
    const actions = { openDataset: () => undefined, openModel: () => undefined, about: () => undefined };
    const roles = (dev: boolean) =>
      JSON.stringify(
        buildMenuTemplate({ dev, isMac: false, actions }).map((item) => item.submenu ?? item.role),
      );
    expect(roles(true)).toContain('"toggleDevTools"');
    expect(roles(true)).toContain('"reload"');
    expect(roles(false)).not.toContain('toggleDevTools');
    expect(roles(false)).not.toContain('reload');
    const file = buildMenuTemplate({ dev: false, isMac: false, actions }).find(
      (item) => item.label === 'File',
    );
    expect((file?.submenu as { label?: string; role?: string }[]).map((i) => i.label ?? i.role)).toEqual([
      'Open Dataset…',
      'Open Model…',
      undefined,
      'quit',
    ]);
  });
});
