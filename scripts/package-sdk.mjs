#!/usr/bin/env node
/**
 * Packages the three SDKs into dist/sdk/ (or --out DIR; the offline bundle carries them in sdk/) for sites
 * without a network:
 *
 *   dist/sdk/typescript/atomic-sdk-<version>.tgz            the npm package (sdk/typescript/build.mjs --pack)
 *   dist/sdk/python/atomic_sdk-<version>-py3-none-any.whl   the wheel, built by flit_core from the SDK's venv
 *   dist/sdk/python/wheels/                                  its run-time dependencies' wheels (hash-checked)
 *   dist/sdk/python/requirements.txt                         their pins, for pip --require-hashes
 *   dist/sdk/go/atomic.local/sdk/@v/…                        a Go module proxy holding the module (list, .info,
 *                                                            .mod, .zip): GOPROXY=file://<dist/sdk/go>
 *
 * The only network it uses is the package index, for the dependency wheels (as scripts/install-sdk-python.mjs
 * does); the wheel and the module are built from the tree. Install offline:
 *   pip install --no-index --find-links dist/sdk/python/wheels dist/sdk/python/atomic_sdk-*.whl
 *   GOPROXY=file://$PWD/dist/sdk/go GONOSUMDB=atomic.local go get atomic.local/sdk@v<version>
 *
 *   node scripts/package-sdk.mjs [--out DIR]     (npm run sdk:package)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { zipArchive } from "./lib/zip.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({ options: { out: { type: "string" } } });
const out = resolve(args.out ?? join(repoRoot, "dist", "sdk"));

function fail(message) {
  process.stderr.write(`package-sdk: ${message}\n`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...options.env } });
  if (result.status !== 0) fail(`${command} ${args.join(" ")} failed: ${(result.stderr || result.stdout || result.error?.message || "").trim().split("\n").at(-1)}`);
  return result.stdout;
}

function packagePython() {
  const sdk = join(repoRoot, "sdk", "python");
  const target = join(out, "python");
  const python = execFileSync(process.execPath, [join(repoRoot, "scripts", "install-sdk-python.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  // No isolation: flit_core comes from the venv, pinned by hash, rather than from the index at build time.
  run(python, ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", target, sdk]);
  run(python, ["-m", "pip", "download", "--require-hashes", "--only-binary=:all:", "--no-deps", "--disable-pip-version-check", "--dest", join(target, "wheels"), "--requirement", join(sdk, "requirements.txt")]);
  copyFileSync(join(sdk, "requirements.txt"), join(target, "requirements.txt"));
  return readdirSync(target).filter((file) => file.endsWith(".whl")).map((file) => join(target, file));
}

/** The module as a Go module proxy serves it (go help goproxy): the files of sdk/go under module@version/. */
function packageGo() {
  const sdk = join(repoRoot, "sdk", "go");
  const module = /^module\s+(\S+)/m.exec(readFileSync(join(sdk, "go.mod"), "utf8"))?.[1];
  const version = /^const Version = "([^"]+)"/m.exec(readFileSync(join(sdk, "doc.go"), "utf8"))?.[1];
  if (module === undefined || version === undefined) fail("sdk/go/go.mod names no module, or sdk/go/doc.go no Version");
  const tag = `v${version}`;
  const files = readdirSync(sdk, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(sdk, join(entry.parentPath, entry.name)))
    .sort()
    .map((path) => ({ name: `${module}@${tag}/${path}`, bytes: readFileSync(join(sdk, path)) }));
  // The module's tests read the shared vectors from testdata/ when they are not beside it (as in the repository).
  files.push({ name: `${module}@${tag}/testdata/vectors.json`, bytes: readFileSync(join(repoRoot, "sdk", "testdata", "vectors.json")) });
  const committed = spawnSync("git", ["log", "-1", "--format=%cI", "--", "sdk/go"], { cwd: repoRoot, encoding: "utf8" }).stdout?.trim();
  const time = committed ? new Date(committed) : new Date();
  const proxy = join(out, "go");
  const versions = join(proxy, module, "@v");
  rmSync(proxy, { recursive: true, force: true });
  mkdirSync(versions, { recursive: true });
  writeFileSync(join(versions, "list"), `${tag}\n`);
  writeFileSync(join(versions, `${tag}.info`), `${JSON.stringify({ Version: tag, Time: time.toISOString() })}\n`);
  copyFileSync(join(sdk, "go.mod"), join(versions, `${tag}.mod`));
  writeFileSync(join(versions, `${tag}.zip`), zipArchive(files, time));
  return `${module}@${tag} in ${proxy}`;
}

/** The npm package, as `npm run sdk:typescript` makes it. */
function packageTypeScript() {
  const target = join(out, "typescript");
  rmSync(target, { recursive: true, force: true });
  run(process.execPath, [join(repoRoot, "sdk", "typescript", "build.mjs"), "--pack", target]);
  return readdirSync(target).filter((file) => file.endsWith(".tgz")).map((file) => join(target, file));
}

process.stderr.write(`package-sdk: ${packageTypeScript().map((tarball) => relative(repoRoot, tarball)).join(", ")}\n`);
const wheels = packagePython();
process.stderr.write(`package-sdk: ${wheels.map((wheel) => relative(repoRoot, wheel)).join(", ")} and its dependencies' wheels\n`);
process.stderr.write(`package-sdk: ${packageGo()}\n`);
