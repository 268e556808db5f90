import { inject } from "vitest";
import type { TestNamespace } from "./temporal-env.js";
import "./provided-context.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** host:port of the dev server the orchestration global setup started (test/support/temporal-global-setup.ts). */
    temporalAddress: string;
  }
}

/** The shared dev server and the test file's own namespace on it. */
export function sharedTemporal(namespace: TestNamespace): { address: string; namespace: TestNamespace } {
  return { address: inject("temporalAddress"), namespace };
}

/** The task workflows as every test worker runs them: bundled once for the run, from the current source. */
export function testWorkflows(): { bundlePath: string } {
  return { bundlePath: inject("workflowBundle") };
}
