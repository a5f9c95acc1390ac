/**
 * The application menu. Reload and the developer tools exist only in development builds.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openDataset(): void;
  openModel(): void;
  about(): void;
}

export function buildMenuTemplate(options: {
  dev: boolean;
  isMac: boolean;
  actions: MenuActions;
}): MenuItemConstructorOptions[] {
  const { dev, isMac, actions } = options;
  const view: MenuItemConstructorOptions[] = [
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
    ...(dev
      ? ([
          { type: 'separator' },
          { role: 'reload' },
          { role: 'toggleDevTools' },
        ] as MenuItemConstructorOptions[])
      : []),
  ];
  return [
    ...(isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Dataset…', accelerator: 'CmdOrCtrl+O', click: () => actions.openDataset() },
        { label: 'Open Model…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.openModel() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'About Pollard', click: () => actions.about() }] },
  ];
}
