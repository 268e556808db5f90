import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorkflowCode, DefaultLogger } from "@temporalio/worker";
import { WORKFLOW_TRACING_MODULE } from "./tracing.js";
import { WORKFLOW_BUNDLE_FILE } from "./worker.js";

/**
 * Bundles the workflow code once, at build time, into dist/orchestration/workflow-bundle.js; workers started from
 * dist load it with `workflowBundle` instead of running webpack on every start. Offline: webpack and swc come with
 * @temporalio/worker. With the OpenTelemetry workflow interceptors, as workers that bundle at start have them.
 */
export async function buildWorkflowBundle(outFile?: string): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const target = outFile ?? join(here, WORKFLOW_BUNDLE_FILE);
  const source = join(here, "workflows", "index.ts");
  const { code } = await bundleWorkflowCode({
    logger: new DefaultLogger("WARN"),
    workflowsPath: existsSync(source) ? source : join(here, "workflows", "index.js"),
    workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
  });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, code);
  return target;
}
