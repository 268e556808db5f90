#!/usr/bin/env node
/**
 * Makes the Python SDK's development venv (.tools/sdk-python/venv, git-ignored) from sdk/python/requirements-dev.txt:
 * the SDK's run-time dependencies, pytest and the wheel's build backend, every wheel pinned by SHA-256. The SDK itself
 * is not installed: its tests import it from sdk/python/src, and `npm run sdk:package` builds its wheel with this
 * venv. Idempotent and cached like scripts/install-pyclient.mjs (test/sdk/sdk.test.ts calls it on every run).
 *
 *   node scripts/install-sdk-python.mjs            → prints the venv's python's absolute path on stdout
 *
 * Environment: ATOMIC_SDK_PYTHON_HOME (default <repo>/.tools/sdk-python), ATOMIC_PYTHON (default python3, then python).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installPinnedVenv } from "./lib/pinned-venv.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sdk = join(repoRoot, "sdk", "python");

installPinnedVenv({
  tool: "install-sdk-python",
  home: resolve(process.env.ATOMIC_SDK_PYTHON_HOME ?? join(repoRoot, ".tools", "sdk-python")),
  requirements: [join(sdk, "requirements-dev.txt"), join(sdk, "requirements.txt")],
  probe: "import cryptography, pytest, flit_core; print('ok')",
  expect: "ok",
  what: "the Python SDK's dependencies, pytest and flit_core",
});
