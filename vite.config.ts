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

/**
 * `npm run dev:renderer` with POLLARD_DEV_SERVER set to the URL `pollard serve` printed
 * (http://127.0.0.1:PORT/?token=…): the dev server forwards the API and the event socket to
 * it, with the token and the Host and Origin that server expects.
 */
const devServer = process.env.POLLARD_DEV_SERVER ? new URL(process.env.POLLARD_DEV_SERVER) : undefined;
const devToken = devServer?.searchParams.get('token') ?? '';

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
  server: {
    port: 5173,
    strictPort: false,
    ...(devServer
      ? {
          proxy: {
            '/api': {
              target: devServer.origin,
              changeOrigin: true,
              ws: true,
              headers: { authorization: `Bearer ${devToken}`, origin: devServer.origin },
            },
          },
        }
      : {}),
  },
});
