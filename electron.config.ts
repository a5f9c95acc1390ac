/**
 * electron-builder configuration (`npm run dist`): Linux AppImage + deb, Windows NSIS, macOS
 * dmg. Building needs the network once, to fetch the Electron binary for each platform; the
 * app itself downloads nothing at run time (no auto-update, no CDN: the wasm binaries, native
 * addons and the sample dataset are inside the package).
 */
import type { Configuration } from 'electron-builder';

const config: Configuration = {
  appId: 'org.pollard.workbench',
  productName: 'Pollard',
  copyright: 'Copyright © Pollard contributors',
  directories: { output: 'dist' },
  // The bundles, the built renderer and the resources; production node_modules are added by
  // electron-builder. Sources, tests and source maps stay out.
  files: ['out/app/**/*', 'out/renderer/**/*', 'resources/**/*', 'package.json', '!**/*.map'],
  asar: true,
  // Files the OS or a wasm/native loader must open from a real path, outside app.asar.
  asarUnpack: [
    '**/*.wasm',
    '**/*.node',
    'node_modules/sharp/**/*',
    'node_modules/@img/**/*',
    'node_modules/koffi/**/*',
    'node_modules/h5wasm/**/*',
    'node_modules/@tensorflow/tfjs-node-gpu/**/*',
    // Dawn (WebGPU rung): dawn.node and, on Windows, the DirectX compiler DLLs beside it.
    'node_modules/webgpu/dist/**/*',
    // The ORT addon dlopens libonnxruntime next to it (native convolution kernels).
    'node_modules/onnxruntime-node/bin/**/*',
  ],
  // sharp and koffi ship N-API prebuilt binaries that load in Electron's Node as they are;
  // a rebuild would fetch Electron headers and a compiler toolchain for nothing.
  npmRebuild: false,
  // SECURITY.md item 22, checked with `npx @electron/fuses read --app <packaged app>`.
  electronFuses: {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    onlyLoadAppFromAsar: true,
    // Validated on macOS and Windows; Linux has no asar integrity check yet.
    enableEmbeddedAsarIntegrityValidation: true,
    enableCookieEncryption: true,
    grantFileProtocolExtraPrivileges: false,
    loadBrowserProcessSpecificV8Snapshot: false,
  },
  // Nothing is published, and the app checks no update server.
  publish: null,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    synopsis: 'Make trained neural networks smaller, faster and cheaper to run',
    maintainer: 'Pollard contributors',
  },
  deb: { priority: 'optional' },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools', hardenedRuntime: true },
};

export default config;
