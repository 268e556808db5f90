#!/usr/bin/env node
/**
 * Installs the official OpenAI Python client, which test/gateway/openai-python-client.test.ts runs against Atomic
 * unchanged, into a project-local Python virtual environment (.tools/pyclient/venv, git-ignored). What goes in is
 * scripts/pyclient/requirements.txt: the whole resolved set, every wheel pinned by SHA-256 (pip --require-hashes), so
 * the test never runs a client nobody chose. Nothing here is a dependency of Atomic. Idempotent: when the venv was
 * made from the current requirements file it says so in one line and installs nothing (the test setup calls it on
 * every run).
 *
 *   node scripts/install-pyclient.mjs            → prints the venv's python's absolute path on stdout
 *
 * Environment: ATOMIC_PYCLIENT_HOME (default <repo>/.tools/pyclient), ATOMIC_PYTHON (default python3, then python).
 * Progress goes to stderr; pip's own output to <home>/pip.log. A failure is one line on stderr and exit 1.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installPinnedVenv } from "./lib/pinned-venv.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const requirementsPath = join(repoRoot, "scripts", "pyclient", "requirements.txt");
// The file is the one place the version is pinned.
const openaiVersion = /^openai==(\S+)/m.exec(readFileSync(requirementsPath, "utf8"))?.[1];
if (openaiVersion === undefined) {
  process.stderr.write(`install-pyclient: ${requirementsPath} pins no openai==<version>\n`);
  process.exit(1);
}

installPinnedVenv({
  tool: "install-pyclient",
  home: resolve(process.env.ATOMIC_PYCLIENT_HOME ?? join(repoRoot, ".tools", "pyclient")),
  requirements: [requirementsPath],
  probe: "import openai; print(openai.__version__)",
  expect: openaiVersion,
  what: `openai ${openaiVersion}`,
});
