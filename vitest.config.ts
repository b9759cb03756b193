import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const alias = { 'workshop/lesson': fileURLToPath(new URL('./src/lesson.ts', import.meta.url)) };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        resolve: { alias },
        // System tests really mount, unshare and create links with fixed lab names (ws-host…),
        // so they run one file at a time.
        test: {
          name: 'system',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/helpers/root-policy.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        // The classroom: store contract, API security, load, faults and the dashboard in chromium.
        // Load and browser tests own the loopback ports and the CPU, so files run one at a time.
        test: {
          name: 'classroom',
          include: ['test/classroom/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        // Hosted labs on real qemu VMs (test/labs/run.sh builds the image first): one sequence
        // that shares its boots, minutes long under TCG.
        test: {
          name: 'labs',
          include: ['test/labs/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
