import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../../../electron.config';
import { PACKAGE_ROOT } from '../util/paths';
import { appLocations } from './locations';

describe('electron-builder configuration', () => {
  it('flips the fuses from SECURITY.md item 22', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('keeps wasm files and native addons outside app.asar', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        '**/*.wasm',
        '**/*.node',
        'node_modules/sharp/**/*',
        'node_modules/koffi/**/*',
        'node_modules/h5wasm/**/*',
      ]),
    );
    // The unpacked folders name packages that exist (a rename would silently pack them).
    for (const pattern of config.asarUnpack as string[]) {
      const folder = /^node_modules\/(.+?)\/\*\*\/\*$/.exec(pattern)?.[1];
      if (folder && folder !== '@tensorflow/tfjs-node-gpu') {
        expect(existsSync(path.join(PACKAGE_ROOT, 'node_modules', folder)), folder).toBe(true);
      }
    }
    expect(
      existsSync(
        path.join(
          PACKAGE_ROOT,
          'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
        ),
      ),
    ).toBe(true);
  });

  it('builds the four installers, publishes nothing, and packs no sources or source maps', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.publish).toBeNull();
    expect(config.files).toEqual(expect.arrayContaining(['out/app/**/*', 'out/renderer/**/*', '!**/*.map']));
    expect((config.files as string[]).some((f) => f.startsWith('src'))).toBe(false);
  });

  it('points the packaged job process at the unpacked wasm binaries', () => {
    const packaged = appLocations('/opt/Pollard/resources/app.asar', true);
    expect(packaged.wasmDir).toBe(
      path.join(
        '/opt/Pollard/resources/app.asar.unpacked',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist',
      ),
    );
    expect(packaged.workerEntry).toBe(
      path.join('/opt/Pollard/resources/app.asar', 'out/app/worker/index.js'),
    );
    expect(appLocations(PACKAGE_ROOT, false).wasmDir).toBeUndefined();
  });
});
