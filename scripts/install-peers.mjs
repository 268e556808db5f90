#!/usr/bin/env node
/**
 * Installs the two gateways `npm run bench:peers` (and `npm run bench`) measures Atomic against, each pinned, into
 * git-ignored folders of this checkout; nothing here is a dependency of Atomic, and nothing runs at the gateway's
 * run time:
 *   - LiteLLM's proxy, PyPI `litellm[proxy]`, into a Python virtual environment (.tools/peers/litellm);
 *   - Portkey's open-source gateway, npm `@portkey-ai/gateway`, into its own folder (.tools/peers/portkey), with
 *     install scripts off (it runs as published).
 * Idempotent: a peer already installed at its pinned version is left alone.
 *
 *   node scripts/install-peers.mjs [--only litellm|portkey]
 *
 * Environment: ATOMIC_PEERS_HOME (default <repo>/.tools/peers), ATOMIC_PYTHON (default python3).
 * Prints one line per peer with what it installed or found; exits 1 with one line when an install fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { acquireDirectoryLock } from "./lib/directory-lock.mjs";
import { PEERS, peerPaths } from "./lib/peers.mjs";

const { values } = parseArgs({ options: { only: { type: "string" } }, strict: true });
const wanted = values.only ? [values.only] : Object.keys(PEERS);
for (const name of wanted) if (!(name in PEERS)) fail(`unknown peer ${name} (known: ${Object.keys(PEERS).join(", ")})`);

function fail(message) {
  process.stderr.write(`install-peers: ${message}\n`);
  process.exit(1);
}

function run(command, args, what, options = {}) {
  const result = spawnSync(command, args, { stdio: ["ignore", 2, 2], ...options, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", ...options.env } });
  if (result.error) fail(`${what}: ${result.error.message}`);
  if (result.status !== 0) fail(`${what} exited with ${result.status ?? result.signal}`);
}

function installedVersion(marker) {
  try {
    return JSON.parse(readFileSync(marker, "utf8")).version;
  } catch {
    return undefined;
  }
}

const installers = {
  litellm(paths, version) {
    const python = process.env.ATOMIC_PYTHON ?? "python3";
    if (!existsSync(join(paths.dir, "pyvenv.cfg"))) run(python, ["-m", "venv", paths.dir], "creating LiteLLM's virtual environment");
    run(join(paths.dir, "bin", "python"), ["-m", "pip", "install", "--quiet", "--no-input", `litellm[proxy]==${version}`], "pip install litellm[proxy]");
  },
  portkey(paths, version) {
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(join(paths.dir, "package.json"), `${JSON.stringify({ name: "atomic-bench-portkey", private: true }, null, 2)}\n`);
    run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", `@portkey-ai/gateway@${version}`], "npm install @portkey-ai/gateway", { cwd: paths.dir });
  },
};

for (const name of wanted) {
  const { version } = PEERS[name];
  const paths = peerPaths(name);
  if (installedVersion(paths.marker) === version && existsSync(paths.entry)) {
    process.stdout.write(`${name} ${version}: already installed in ${paths.dir}\n`);
    continue;
  }
  mkdirSync(paths.home, { recursive: true });
  const lock = `${paths.dir}.installing`;
  if (!acquireDirectoryLock(lock, { timeoutMs: 20 * 60_000, pollMs: 500 })) fail(`${lock} has been held for 20 minutes; remove it if no install is running`);
  // fail() exits at once: the lock goes with the process, not in a finally that exit skips.
  const release = () => rmSync(lock, { recursive: true, force: true });
  process.once("exit", release);
  rmSync(paths.marker, { force: true });
  process.stderr.write(`install-peers: installing ${name} ${version} into ${paths.dir}\n`);
  installers[name](paths, version);
  if (!existsSync(paths.entry)) fail(`${name} installed but ${paths.entry} is missing`);
  writeFileSync(paths.marker, `${JSON.stringify({ version }, null, 2)}\n`);
  process.stdout.write(`${name} ${version}: installed in ${paths.dir}\n`);
  release();
  process.removeListener("exit", release);
}
