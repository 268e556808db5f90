import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Slow suites with commands of their own (see README): the production Temporal server and the offline bundle.
    exclude: [...configDefaults.exclude, "test/deploy/**", "test/bundle/**"],
    globalSetup: ["test/setup/global.ts", "test/support/temporal-global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Native llama.cpp bindings and child processes behave best in forked workers.
    pool: "forks",
    // One process per worker for every file it runs, not one per file: spawning and importing anew for each of
    // ~150 files left a worker idle about a sixth of the run. Files clean up after themselves (servers, timers, mocks).
    isolate: false,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
