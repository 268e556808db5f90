import { defineConfig } from "vitest/config";

/**
 * The offline bundle's tests (issue 7): `npx vitest run --config vitest.bundle.config.ts`. Slow (two bundle builds,
 * installs and upgrades in a network namespace), root only, and needs the package registries for the builds, so
 * it is not part of `npm test`; its fast unit tests (test/bundle/integrity.test.ts) also run there.
 */
export default defineConfig({
  test: {
    include: ["test/bundle/**/*.test.ts"],
    pool: "forks",
    // One file at a time: the builds and the namespace runs each want the whole (2-core) machine.
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 20 * 60_000,
    hookTimeout: 40 * 60_000,
    // offline-install.test.ts runs only when this is set, so that the main suite skips it even unexcluded.
    env: { ATOMIC_BUNDLE_TESTS: "1" },
  },
});
