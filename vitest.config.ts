import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', '.stack/**'];

// Test tiers by file name (README's Tests): *.unit.spec.ts has no I/O, *.int.spec.ts talks to real
// PostgreSQL/Redis/NATS, *.e2e.spec.ts drives running services over HTTP, *.fault.spec.ts kills a
// node of a shared local cluster (run alone, one file at a time, after the others).
export default defineConfig({
  test: {
    exclude,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.unit.spec.ts'] } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['**/*.int.spec.ts'],
          globalSetup: ['shared/src/testing/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['**/*.e2e.spec.ts'],
          globalSetup: ['shared/src/testing/globalSetup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'fault',
          include: ['**/*.fault.spec.ts'],
          globalSetup: ['shared/src/testing/globalSetup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
