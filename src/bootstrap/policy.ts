import { resolve } from "node:path";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { PolicyLoadError, PolicyStore } from "../policy/index.js";

/** A set that does not load or validate stops the start: running without the site's rules is not an option. */
export class PolicySetError extends Error {
  override readonly name = "PolicySetError";
}

export function openPolicy(config: Config, logger: Logger): PolicyStore {
  const dir = resolve(config.policy.dir);
  let store: PolicyStore;
  try {
    store = PolicyStore.open(dir);
  } catch (error) {
    if (error instanceof PolicyLoadError) throw new PolicySetError(`policy set ${dir} refused: ${error.problems.join("; ")}`);
    throw error;
  }
  logger.info({ dir, policySetHash: store.policySetHash }, "policy set loaded");
  return store;
}
