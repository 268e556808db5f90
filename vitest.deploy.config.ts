import { defineConfig } from "vitest/config";

/**
 * Tests of the deploy recipes (test/deploy): they build or start real servers (the Temporal server from source on a
 * first run) and take minutes, so they run apart from `npm test`. No global setup: each file starts what it needs.
 */
export default defineConfig({
  test: {
    include: ["test/deploy/**/*.test.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    pool: "forks",
    // One file at a time: each runs servers of its own on a small machine.
    maxWorkers: 1,
    testTimeout: 300_000,
    // The first run builds the Temporal server with Go: about 6 minutes on 2 cores, more on a busy machine.
    hookTimeout: 45 * 60_000,
  },
});
