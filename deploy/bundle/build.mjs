#!/usr/bin/env node
/**
 * Builds Atomic's offline installation bundle on a connected build machine:
 *
 *   node deploy/bundle/build.mjs [--version V] [--out DIR] [--release-key FILE] [--cuda | --cuda-fallback]
 *                                [--temporal server|dev] [--models family | --models ID[,ID...]]
 *
 * One signed tarball, atomic-<version>-linux-x64[-cuda][+models].tar.gz, holding everything the appliance runs: the
 * compiled gateway, its production dependencies (pruned to the chosen llama.cpp builds and to what runs), Node.js,
 * PostgreSQL, one Temporal, migrations, default policies, an empty model manifest, systemd units, the installer, an
 * SBOM, SHA256SUMS and its Ed25519 signature; with --models, real models too. Native files are stripped of their
 * symbol tables. Beside it: the release public key (to hand to operators apart from the tarball) and a report of the
 * installed size by component. npm and pip fetch through their own configuration; nothing else is downloaded.
 *
 *   --version V                 the version stamp (default: package.json's)
 *   --out DIR                   where the tarball goes (default dist/bundle)
 *   --release-key FILE          the Ed25519 private key (PEM) that signs the release; without it a development key
 *                               in .tools/release-key is used (generated once), with a loud note
 *   --cuda                      also carry llama.cpp's CUDA build (cards from Turing on; a larger bundle, named ...-cuda)
 *   --cuda-fallback             --cuda and node-llama-cpp's fallback CUDA build for older cards (Maxwell to Volta;
 *                               357 MiB more, no size target; named ...-cuda-fallback)
 *   --temporal server|dev       which Temporal the bundle carries (one, the one its installs run): server, the
 *                               production server on PostgreSQL (default when deploy/temporal/build-server.mjs has
 *                               built it into .tools/temporal-server), or dev, the Temporal CLI's dev server on
 *                               SQLite (default otherwise, said in the output)
 *   --models family|ID,ID       also carry real models pinned in models/family.json (listed below; with
 *                               --from-commit, the commit's): "family" for all of them, or some by id. They are
 *                               installed here first (npm run models:install: pip, both digests checked), then go
 *                               into models/ with their licence texts, signed like the rest; the installed gateway
 *                               serves them beside the site's own. The name ends in +family or +ID+ID. Without it
 *                               the bundle carries no model (only the empty manifest for the site's own)
 *   --require-temporal-server   the same as --temporal server: fail when the server is not built
 *   --from-commit REF           build what is committed at REF (e.g. HEAD, a release tag) instead of the working
 *                               tree: a release must not carry whatever happens to be half-edited in the checkout
 *   --keep-stage                keep the staging folder (printed) for inspection
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { displayFingerprint, signTree, verifyBundle } from "../install/bundle-integrity.mjs";
import { createProgress, formatBytes, formatSeconds } from "../install/progress.mjs";
import { addAppFiles, bundleWorkflows, compileGateway, installProductionDependencies, prune } from "./app.mjs";
import {
  MODELS_DIR, addCarriedModels, assertOnlyCarriedModels, chooseModels, describeCarried, describeFamily, installChosenModels, nameSuffix, parseFamilyPins,
} from "./models.mjs";
import { LLAMA_BUILDS, PLATFORM, POSTGRES, SIZE_TARGET_BYTES } from "./pins.mjs";
import { loadReleaseKey } from "./release-key.mjs";
import { BuildError, createLog, run } from "./run.mjs";
import { addNodeRuntime, addPostgres, addTemporal, temporalServerBuilt, temporalServerDir } from "./runtimes.mjs";
import { writeSbom } from "./sbom.mjs";
import { sizeReport } from "./sizes.mjs";
import { stripNative } from "./trim.mjs";
import { writeTarball } from "./tarball.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const INSTALL_SCRIPT = `#!/bin/sh
# Atomic's installer, run with the Node.js inside this bundle. ./install --help; INSTALL.md is the guide.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
exec "$here/node/bin/node" "$here/installer/install.mjs" "$@"
`;

function parse() {
  const { values } = parseArgs({
    options: {
      version: { type: "string" },
      out: { type: "string" },
      "release-key": { type: "string" },
      cuda: { type: "boolean", default: false },
      "cuda-fallback": { type: "boolean", default: false },
      temporal: { type: "string" },
      "require-temporal-server": { type: "boolean", default: false },
      "keep-stage": { type: "boolean", default: false },
      "from-commit": { type: "string" },
      models: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  return values;
}

/** The pinned model family: the working tree's, or with --from-commit the commit's own (a release carries its commit's). */
function familyPins(ref) {
  if (!ref) return parseFamilyPins(readFileSync(join(repo, "models", "family.json"), "utf8"), "models/family.json");
  const shown = spawnSync("git", ["show", `${ref}:models/family.json`], { cwd: repo, encoding: "utf8", maxBuffer: 16 << 20 });
  if (shown.status !== 0) throw new BuildError(`--models: ${ref} has no models/family.json`);
  return parseFamilyPins(shown.stdout, `${ref}:models/family.json`);
}

/** What the bundle was built from: a commit, and whether the working tree (when that was the source) had changes. */
function sourceOf(ref) {
  const commit = spawnSync("git", ["rev-parse", "--verify", `${ref ?? "HEAD"}^{commit}`], { cwd: repo, encoding: "utf8" }).stdout.trim();
  if (ref) {
    if (!commit) throw new BuildError(`--from-commit ${ref}: not a commit`);
    return { commit, ref, dirty: false };
  }
  const dirty = spawnSync("git", ["status", "--porcelain"], { cwd: repo, encoding: "utf8" }).stdout.trim() !== "";
  return commit ? { commit, ref: "working tree", dirty } : null;
}

/** The parts of a commit the bundle is made of, exported into the scratch folder; tools stay the tree's own. */
async function exportCommit(log, commit, scratch) {
  const dir = join(scratch, "source");
  mkdirSync(dir, { recursive: true });
  const wanted = ["src", "policies", "audit", "models/family.json", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "deploy/install", "deploy/systemd", "deploy/temporal", "sdk", "scripts"];
  // An older commit may lack a part (deploy/temporal came later): take what it has.
  const paths = wanted.filter((p) => spawnSync("git", ["cat-file", "-e", `${commit}:${p}`], { cwd: repo }).status === 0);
  const archive = spawnSync("sh", ["-c", 'git archive --format=tar "$0" -- "$@" | tar -x -C "$DEST"', commit, ...paths], {
    cwd: repo, encoding: "utf8", env: { ...process.env, DEST: dir },
  });
  log.write(`\n$ git archive ${commit} ${paths.join(" ")}\n${archive.stderr}`);
  if (archive.status !== 0) throw new BuildError(`git archive ${commit} failed: ${archive.stderr}`);
  // The compiler and its type packages come from the tree's node_modules (development tools, not shipped).
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** The Temporal the bundle carries: --temporal, else the production server when it is built, else the dev CLI. */
function temporalChoice(values) {
  const asked = values.temporal ?? (values["require-temporal-server"] ? "server" : undefined);
  if (values["require-temporal-server"] && asked !== "server") throw new BuildError("--require-temporal-server asks for --temporal server");
  if (asked !== undefined && asked !== "server" && asked !== "dev") throw new BuildError(`--temporal ${asked}: server or dev`);
  const carry = asked ?? (temporalServerBuilt(repo) ? "server" : "dev");
  if (carry === "server" && !temporalServerBuilt(repo)) {
    throw new BuildError(`--temporal server: no temporal-server and temporal-sql-tool in ${temporalServerDir(repo)} (build them with node deploy/temporal/build-server.mjs, or build with --temporal dev)`);
  }
  return { carry, defaulted: asked === undefined };
}

/** The package a removal took out whole (node_modules/NAME or .../node_modules/@scope/name), for npm ls's complaints. */
function prunedPackageNames(pruned) {
  return new Set(pruned.map((p) => /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/@*][^/]*)$/.exec(p.path)?.[1]).filter(Boolean));
}

async function main() {
  const values = parse();
  if (values.help) {
    const header = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
    const usage = header.slice(2, header.indexOf(" */")).map((l) => l.replace(/^ \*\s?/, ""));
    process.stdout.write(`${[...usage, "", "Models pinned in models/family.json (--models):", ...describeFamily(familyPins())].join("\n")}\n`);
    return 0;
  }
  const pkg = JSON.parse(values["from-commit"]
    ? spawnSync("git", ["show", `${values["from-commit"]}:package.json`], { cwd: repo, encoding: "utf8" }).stdout || "{}"
    : readFileSync(join(repo, "package.json"), "utf8"));
  const version = values.version ?? pkg.version;
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) throw new BuildError(`--version ${version}: letters, digits and . _ + - only`);
  const cudaFallback = values["cuda-fallback"];
  const cuda = values.cuda || cudaFallback;
  const llamaBuilds = LLAMA_BUILDS[cudaFallback ? "cudaFallback" : cuda ? "cuda" : "cpu"];
  const temporalCarry = temporalChoice(values);
  const pins = values.models === undefined ? [] : familyPins(values["from-commit"]);
  const models = chooseModels(values.models, pins);
  const name = `atomic-${version}-${PLATFORM}${cudaFallback ? "-cuda-fallback" : cuda ? "-cuda" : ""}${nameSuffix(models, pins)}`;
  const outDir = resolve(values.out ?? join(repo, "dist", "bundle"));
  mkdirSync(outDir, { recursive: true });
  const log = createLog(join(outDir, `${name}.build.log`));
  writeFileSync(log.path, `building ${name} at ${new Date().toISOString()}\n`);
  const cacheDir = join(repo, ".tools", "bundle-cache");
  // Staged outside the tree: Node's module resolution climbs parent folders, and the tree's own node_modules
  // must not be able to stand in for something the bundle lacks.
  const scratch = mkdtempSync(join(tmpdir(), "atomic-bundle-"));
  const stage = join(scratch, name);
  const appDir = join(stage, "app");
  mkdirSync(appDir, { recursive: true });

  const progress = createProgress({ total: models.length > 0 ? 17 : 16 });
  const timings = {};
  const started = performance.now();
  const stepped = async (label, fn) => {
    const step = progress.step(label);
    try {
      const note = await fn(step);
      timings[label] = step.done(typeof note === "string" ? note : undefined);
    } catch (error) {
      step.fail();
      throw error;
    }
  };

  try {
    const key = loadReleaseKey(repo, values["release-key"]);
    if (key.warning) process.stderr.write(`${key.warning}\n`);
    progress.line(`building ${name} (build log: ${log.path})`);

    const source = sourceOf(values["from-commit"]);
    const tree = values["from-commit"] ? await exportCommit(log, source.commit, scratch) : repo;
    progress.line(`source: ${values["from-commit"] ? `commit ${source.commit} (${values["from-commit"]})` : `working tree${source?.dirty ? " WITH UNCOMMITTED CHANGES" : ""}`}`);
    // First: a model that cannot be fetched or does not match its pin should stop the build before the long steps.
    if (models.length > 0) {
      await stepped(`models: ${models.map((m) => m.id).join(", ")} (install, carry with licences)`, async (step) => {
        step.note("npm run models:install --only ...");
        const home = await installChosenModels(log, repo, tree, models);
        addCarriedModels(home, stage, models);
        return `${formatBytes(models.reduce((sum, m) => sum + m.sizeBytes, 0))} from ${home}`;
      });
    }
    await stepped("compile the gateway (tsc)", async () => {
      await compileGateway(log, tree, appDir);
    });
    await stepped("production dependencies (npm ci --omit=dev)", async (step) => {
      await installProductionDependencies(log, tree, appDir, (line) => line.trim() && step.note(line.trim().slice(0, 60)));
    });
    await stepped("Temporal workflow bundle", async () => {
      await bundleWorkflows(log, appDir);
    });
    let pruned;
    await stepped(`prune to the ${cuda ? "CPU and CUDA" : "CPU"} llama.cpp build${cudaFallback ? "s" : ""}, this platform and what runs`, async () => {
      pruned = prune(appDir, { llamaBuilds });
      return `${formatBytes(pruned.reduce((s, p) => s + p.bytes, 0))} removed`;
    });
    await stepped("policies, empty model manifest, audit verifier", async () => {
      addAppFiles(tree, appDir, version);
    });
    await stepped("SDKs for the site's developers: TypeScript, Python, Go (scripts/package-sdk.mjs)", async () => {
      // The tree's own packager, so a commit's SDKs are what --from-commit carries; pip fetches the wheels' pins.
      await run(log, process.execPath, [join(tree, "scripts", "package-sdk.mjs"), "--out", join(stage, "sdk")], { cwd: tree });
      return "sdk/typescript, sdk/python, sdk/go";
    });
    let node;
    await stepped("Node.js runtime", async () => {
      node = await addNodeRuntime(log, cacheDir, stage, scratch);
      return `${node.version}${node.fetched ? ", fetched" : ", from cache"}${node.note ? `; note: ${node.note}` : ""}`;
    });
    let postgres;
    await stepped("PostgreSQL", async () => {
      postgres = await addPostgres(log, cacheDir, stage, scratch);
      return `${postgres.version}${postgres.fetched ? ", fetched" : ", from cache"}`;
    });
    let temporal;
    await stepped(`Temporal (${temporalCarry.carry === "server" ? "production server on PostgreSQL" : "dev server CLI"})`, async () => {
      temporal = await addTemporal(log, repo, stage, { carry: temporalCarry.carry, tree });
      if (temporal.server) return `server ${temporal.server.version}`;
      return `${temporal.cli}${temporalCarry.defaulted ? `; the production server is not built (${temporalServerDir(repo)}): node deploy/temporal/build-server.mjs` : ""}`;
    });
    let stripped;
    await stepped("strip symbol tables from native files", async () => {
      stripped = stripNative(stage);
      if (stripped.unavailable) return "SKIPPED: no strip (binutils) on this machine, the bundle is larger";
      return `${formatBytes(stripped.saved.reduce((s, x) => s + x.bytes, 0))} saved`;
    });
    await stepped("load check: the pruned tree with the bundled Node.js", async () => {
      // Copied into app/ so that its imports resolve to app/node_modules; removed before anything is signed.
      const check = join(appDir, ".load-check.mjs");
      copyFileSync(join(repo, "deploy", "bundle", "load-check.mjs"), check);
      try {
        const env = { PATH: process.env.PATH, HOME: scratch, LC_ALL: "C", NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" };
        const facts = JSON.parse((await run(log, join(stage, "node", "bin", "node"), [check], { cwd: appDir, env })).trim().split("\n").pop());
        return `${facts.modules} entry modules, Cedar ${facts.cedar}, llama.cpp on the CPU generated`;
      } finally {
        rmSync(check, { force: true });
      }
    });
    let sbom;
    await stepped("SBOM (CycloneDX)", async () => {
      sbom = await writeSbom(log, repo, stage, { version, temporal, models, prunedNames: prunedPackageNames(pruned) });
      return `${sbom.components} components`;
    });
    await stepped("installer, systemd units, BUNDLE.json", async () => {
      const installer = join(stage, "installer");
      mkdirSync(installer, { recursive: true });
      for (const file of readdirSync(join(tree, "deploy", "install"))) {
        if (file.endsWith(".mjs") && !file.includes(".test.")) copyFileSync(join(tree, "deploy", "install", file), join(installer, file));
      }
      copyFileSync(join(tree, "deploy", "install", "INSTALL.md"), join(stage, "INSTALL.md"));
      cpSync(join(tree, "deploy", "systemd"), join(stage, "systemd"), { recursive: true, filter: (p) => !p.endsWith(".md") });
      writeFileSync(join(stage, "install"), INSTALL_SCRIPT);
      chmodSync(join(stage, "install"), 0o755);
      chmodSync(join(installer, "install.mjs"), 0o755);
      chmodSync(join(installer, "wait-for.mjs"), 0o755);
      writeFileSync(join(stage, "release.pub.jwk"), `${JSON.stringify(key.publicKey.export({ format: "jwk" }))}\n`);
      await assertOnlyCarriedModels(stage, models);
      const bundle = {
        name: "atomic",
        version,
        platform: PLATFORM,
        builtAt: new Date().toISOString(),
        source,
        node: { version: node.version },
        postgres: { version: postgres.version, major: POSTGRES.major, package: `${POSTGRES.name}@${POSTGRES.version}` },
        // One of the two, the other null: what the installer may run (--temporal server or dev).
        temporal: { cli: temporal.cli, server: temporal.server },
        llama: { builds: cudaFallback ? ["cpu", "cuda", "cuda-fallback"] : cuda ? ["cpu", "cuda"] : ["cpu"] },
        // What the installed gateway serves as its model family (models/manifest.json); empty: none carried.
        models: describeCarried(models),
        releaseKey: key.fingerprint,
        developmentKey: key.development,
        sbom: "sbom.cdx.json",
      };
      writeFileSync(join(stage, "BUNDLE.json"), `${JSON.stringify(bundle, null, 2)}\n`);
    });
    let signed;
    await stepped("SHA-256 of every file, Ed25519 signature", async (step) => {
      signed = await signTree(stage, key.privateKey, {
        onProgress: (d, t) => step.update(d, t),
        write: (file, text) => writeFileSync(join(stage, file), text),
      });
      return `${signed.files} files, key ${displayFingerprint(signed.fingerprint)}`;
    });
    await stepped("verify the signed tree as the installer will", async (step) => {
      const result = await verifyBundle(stage, key.publicKey, { onProgress: (d, t) => step.update(d, t) });
      if (!result.ok) throw new BuildError(`the bundle just signed does not verify: ${result.problems.map((p) => `${p.path}: ${p.problem}`).join("; ")}`);
    });
    const tarball = join(outDir, `${name}.tar.gz`);
    const report = sizeReport(stage);
    await stepped("tarball (tar + gzip)", async (step) => {
      report.compressed = await writeTarball({
        parent: scratch, name, outFile: tarball, mtime: Math.floor(Date.now() / 1000), totalBytes: report.total, onProgress: (d, t) => step.update(d, t),
      });
      return formatBytes(report.compressed);
    });
    const publicKeyFile = join(outDir, `${name}.release.pub.jwk`);
    writeFileSync(publicKeyFile, `${JSON.stringify(key.publicKey.export({ format: "jwk" }))}\n`);
    // The same key for openssl, for operators who check the signature without the bundle's Node.js.
    writeFileSync(join(outDir, `${name}.release.pub.pem`), key.publicKey.export({ format: "pem", type: "spki" }));

    const elapsed = performance.now() - started;
    // The target is the installed size of the code; carried models come on top at their own size.
    const modelBytes = models.reduce((sum, m) => sum + m.sizeBytes, 0);
    const baseTarget = cudaFallback ? null : SIZE_TARGET_BYTES[cuda ? "cuda" : "cpu"];
    const sizeTarget = baseTarget === null ? null : baseTarget + modelBytes;
    const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
    const targetText = baseTarget === null
      ? "no target with --cuda-fallback"
      : `target for the ${cuda ? "CUDA" : "CPU"} bundle ≤ ${mb(baseTarget)}${modelBytes > 0 ? ` + ${mb(modelBytes)} of models` : ""}: ${report.total <= sizeTarget ? "met" : "EXCEEDED"}`;
    const byReason = new Map();
    for (const p of pruned) byReason.set(p.why, (byReason.get(p.why) ?? 0) + p.bytes);
    const lines = [
      "",
      `bundle       ${tarball}`,
      `size         ${formatBytes(report.compressed)} compressed; installed ${mb(report.total)} (${formatBytes(report.total)}), ${targetText}`,
      "installed by component:",
      ...report.components.map((c) => `  ${formatBytes(c.bytes).padStart(10)}  ${c.label}`),
      `pruned       ${formatBytes(pruned.reduce((s, p) => s + p.bytes, 0))} (each path in report.json):`,
      ...[...byReason].sort((a, b) => b[1] - a[1]).map(([why, bytes]) => `  ${formatBytes(bytes).padStart(10)}  ${why}`),
      stripped.unavailable
        ? "stripped     nothing: no strip (binutils) on this machine"
        : `stripped     ${stripped.saved.sort((a, b) => b.bytes - a.bytes).map((x) => `${x.path} ${formatBytes(x.bytes)}`).join(", ") || "nothing left to strip"}`,
      `release key  ${displayFingerprint(key.fingerprint)}${key.development ? "  (DEVELOPMENT KEY)" : ""}`,
      `             public key for operators, to send apart from the tarball: ${publicKeyFile}`,
      temporal.server
        ? "temporal     the production server on PostgreSQL (installs run --temporal server)"
        : `temporal     the CLI's dev server on SQLite (installs run --temporal dev)${temporalCarry.defaulted ? "; the production server is not built (node deploy/temporal/build-server.mjs)" : ""}`,
      models.length > 0
        ? `models       ${models.map((m) => `${m.id} (${m.licence.name})`).join(", ")} in ${MODELS_DIR}/, licences in ${MODELS_DIR}/licences/`
        : `models       none (--models family carries the pinned family)`,
      `took         ${formatSeconds(elapsed)}`,
    ];
    process.stderr.write(`${lines.join("\n")}\n`);
    if (key.warning) process.stderr.write(`${key.warning}\n`);
    writeFileSync(join(outDir, `${name}.report.json`), `${JSON.stringify({
      name, tarball, compressedBytes: report.compressed, installedBytes: report.total, components: report.components,
      sizeTargetBytes: sizeTarget, models: describeCarried(models), pruned, stripped: stripped.saved,
      releaseKey: key.fingerprint, developmentKey: key.development, temporal: temporal.server ? "server" : "dev", temporalServer: Boolean(temporal.server?.supervisor),
      timingsMs: timings, totalMs: elapsed,
    }, null, 2)}\n`);
    if (sizeTarget !== null && report.total > sizeTarget) throw new BuildError(`the bundle installs to ${mb(report.total)}, over its target (${targetText})`);
    return 0;
  } finally {
    if (values["keep-stage"]) progress.line(`stage kept: ${stage}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`build: ${error instanceof BuildError ? error.message : error?.stack ?? error}\n`);
    process.exit(1);
  },
);
