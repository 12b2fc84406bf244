import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['nips/**/*.test.ts', 'relay/**/*.test.ts', 'agents/**/*.test.ts', 'client/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules', 'dist'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['nips/**/*.ts', 'relay/**/*.ts', 'agents/**/*.ts'],
      exclude: ['**/*.test.ts'],
      reporter: ['text-summary', 'text'],
    },
  },
})
