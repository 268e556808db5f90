import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Slow suites with commands of their own: the production Temporal server (docs/architecture.md, Orchestration)
    // and the offline bundle (docs/offline-installation.md).
    exclude: [...configDefaults.exclude, "test/deploy/**", "test/bundle/**"],
    globalSetup: ["test/setup/global.ts", "test/support/temporal-global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Native llama.cpp bindings and child processes behave best in forked workers.
    pool: "forks",
    // A fresh process per file (isolate, the default). Sharing one per worker ran the suite ~100 s faster, but a
    // worker died once under test/gateway/model-integrity.test.ts (which kills model hosts) after other files had
    // run in it, and the cause was not found: a fast suite that fails at random is worth less than a slower one.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
