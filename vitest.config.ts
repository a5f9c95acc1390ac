import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**/*.test.ts); integration tests that fork the CLI or
// the job process live in test/. Playwright's e2e/ is run separately by `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
