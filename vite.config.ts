/**
 * The renderer's build: Svelte 5 + TypeScript from src/renderer into out/renderer. `base: './'`
 * keeps asset URLs relative, so the same build loads from `pollard serve` (http://…/) and from
 * the Electron app's own scheme.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: path.join(root, 'src/renderer'),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: path.join(root, 'out/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // The CSP forbids inline scripts; keep every module an external file.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: { port: 5173, strictPort: false },
});
