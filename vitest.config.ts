import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.unit.test.ts', 'src/**/*.unit.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.int.test.ts'],
          exclude: ['test/integration/dashboard/**'],
          globalSetup: ['./test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: the JVM services need one of them.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'browser',
          // After the integration files, one file at a time: the dashboard's first render is
          // timed, and two cores shared with another file's pipeline would time that file.
          sequence: { groupOrder: 2 },
          include: ['test/integration/dashboard/**/*.int.test.ts'],
          globalSetup: ['./test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
