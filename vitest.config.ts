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
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
