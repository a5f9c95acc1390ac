/**
 * The desktop app's main process. It stays thin: one window on the `app://` renderer, IPC
 * handlers that validate and forward to the AppService, and job processes started as
 * Electron utility processes. Everything else is the same code `pollard serve` runs.
 */
import { app, BrowserWindow, ipcMain, Menu, session } from 'electron';
import type { MenuCommand } from '../../shared/api';
import { JOB_MESSAGE_CHANNEL, MENU_CHANNEL } from '../../shared/ipc';
import { AppService, serviceHandlers } from '../services/app-service';
import { dataDirectory, PACKAGE_ROOT } from '../util/paths';
import { POLLARD_VERSION } from '../util/version';
import { registerAppScheme, serveRenderer } from './app-protocol';
import { openFolder, openReport, pickPath } from './dialogs';
import { registerIpcHandlers } from './ipc';
import { APP_ENTRY_URL } from './ipc-guard';
import { appLocations } from './locations';
import { buildMenuTemplate } from './menu';
import { utilityWorkerLauncher } from './utility-launcher';
import { denyAllPermissions, hardenContents, SECURE_WEB_PREFERENCES } from './window-policy';

const SHUTDOWN_TIMEOUT_MS = 20_000;

registerAppScheme();

async function start(): Promise<void> {
  const dev = !app.isPackaged;
  // From the bundle's own place, not app.getAppPath(): that is the script's folder when Electron
  // is started on out/app/main/index.js directly (as the e2e tests do).
  const locations = appLocations(PACKAGE_ROOT, app.isPackaged);
  const workerEnv: Record<string, string> = locations.wasmDir ? { POLLARD_WASM_DIR: locations.wasmDir } : {};

  denyAllPermissions(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  serveRenderer(locations.rendererDir);

  const service = await AppService.create({
    dataDir: dataDirectory(),
    createLauncher: (env) =>
      utilityWorkerLauncher({ entry: locations.workerEntry, env: { ...env, ...workerEnv } }),
  });
  for (const warning of service.settingsWarnings) console.warn(`pollard: ${warning}`);

  const window = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Pollard',
    webPreferences: {
      ...SECURE_WEB_PREFERENCES,
      // Spelled out as well (same values) where a scanner such as Electronegativity can see them.
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      disableBlinkFeatures: 'Auxclick',
      preload: locations.preload,
      devTools: dev,
    },
  });
  window.once('ready-to-show', () => window.show());

  registerIpcHandlers(
    ipcMain,
    {
      ...serviceHandlers(service),
      pickPath: (kind) => pickPath(window, kind),
      openFolder: (folder) => openFolder(folder),
      openReport: (file) => openReport(file),
      resolveFiles: (paths) => service.resolveLocalPaths(paths),
    },
    () => service.replay(),
  );
  service.subscribe((message) => {
    if (!window.isDestroyed()) window.webContents.send(JOB_MESSAGE_CHANNEL, message);
  });

  const sendMenuCommand = async (command: MenuCommand['command'], kind: 'dataset-folder' | 'model-file') => {
    const chosen = await pickPath(window, kind);
    if (chosen && !window.isDestroyed())
      window.webContents.send(MENU_CHANNEL, { command, path: chosen } satisfies MenuCommand);
  };
  app.setAboutPanelOptions({
    applicationName: 'Pollard',
    applicationVersion: POLLARD_VERSION,
    version: `Electron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}`,
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate({
        dev,
        isMac: process.platform === 'darwin',
        actions: {
          openDataset: () => void sendMenuCommand('open-dataset', 'dataset-folder'),
          openModel: () => void sendMenuCommand('open-model', 'model-file'),
          about: () => app.showAboutPanel(),
        },
      }),
    ),
  );

  let stopping = false;
  app.on('before-quit', (event) => {
    if (stopping) return;
    // Cancel jobs first (soft, then hard), so their runs end "cancelled" and can be resumed.
    event.preventDefault();
    stopping = true;
    const timeout = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS));
    void Promise.race([service.shutdown(), timeout]).finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());

  await window.loadURL(APP_ENTRY_URL);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      console.error(`pollard: could not start: ${error instanceof Error ? error.message : String(error)}`);
      app.exit(1);
    });
}
