import { defineConfig } from 'vitest/config';

/** The long reliability and security suite (issue 9): `npm run test:chaos`. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    globalSetup: ['test/chaos/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
