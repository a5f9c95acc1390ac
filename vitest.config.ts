import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**/*.test.ts); integration tests that fork the CLI or
// the job process live in test/. Playwright's e2e/ is run separately by `npm run test:e2e`.
export default defineConfig({
  // The renderer's state classes use Svelte runes (*.svelte.ts): compile them for their tests.
  plugins: [svelte()],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
