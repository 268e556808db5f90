#!/usr/bin/env node
/**
 * Atomic's offline installer. It runs with the Node.js inside the bundle (`./install ...` at the bundle's top) and
 * reaches no network: it checks the release signature and every file's checksum before it writes anything, then
 * installs or upgrades the release under a prefix, prepares the service account, keys and database, and writes the
 * systemd units. INSTALL.md (beside this file) is the operator's guide.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync, chownSync, createReadStream, createWriteStream, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync,
  readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, appendFileSync, cpSync,
} from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  displayFingerprint, fingerprintOf, normaliseFingerprint, parsePublicKey, verifyBundle,
} from "./bundle-integrity.mjs";
import { createProgress, formatBytes } from "./progress.mjs";
import {
  SAFE_PATH, defaultAuditOrigin, familyManifestPath, renderConfig, renderEnv, renderTemporalEnv, renderUnit, renderUpWrapper, renderWrapper, socketAdminUrl,
  socketDatabaseUrl,
  socketPathProblem, templateFor, unitsFor,
} from "./render.mjs";
import {
  ensureSystemUser, groupName, livePostmaster, lookupUser, runAs, systemctl, systemdRunning, untraversableAncestor,
} from "./system.mjs";

const BUNDLE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RELEASE_KEY_IN_BUNDLE = "release.pub.jwk";
/** The models a bundle carries (built with --models): GGUF files, licences/<id>/, and the manifest pinning them. */
const CARRIED_MODELS = "models";

const USAGE = `usage: ./install [install] --release-key FILE | --release-key-fingerprint FP  [options]
       ./install verify   --release-key FILE | --release-key-fingerprint FP
       ./install rollback --prefix DIR [--restore-database]
       ./install fingerprint FILE

  --release-key FILE              the release public key (JWK or PEM), received apart from the bundle
  --release-key-fingerprint FP    or only its fingerprint, received apart; the bundle's copy of the key must match
                                  (on an upgrade, the key pinned at the first install is used when neither is given)
  --prefix DIR                    where it goes (default /opt/atomic)
  --data-dir DIR                  database, keys, models, Temporal state (default <prefix>/var)
  --user NAME                     the service account, created when missing (default atomic)
  --profile all-in-one|external-db
                                  all-in-one runs the bundle's PostgreSQL; external-db uses --database-url
  --database-url URL              the site's PostgreSQL (external-db)
  --database-network CIDR         its address or network, which the units may reach (needed when the URL names a
                                  host rather than an address); repeatable
  --temporal server|dev           server: Temporal's production server on PostgreSQL; dev: the Temporal CLI's server
                                  on SQLite. A bundle carries one of them (BUNDLE.json), the default
  --temporal-postgres-url URL     (server with external-db) where Temporal's databases live
  --temporal-postgres-password-file F   its password, kept out of the URL
  --host ADDR --port N            where the gateway listens (default 127.0.0.1 8080)
  --client-network CIDR           a network allowed to reach the gateway (systemd IPAddressAllow=); repeatable
  --temporal-port N               Temporal's loopback port (default 7233)
  --egress-probe IP:PORT          an address this host must not reach (its proxy, a public resolver); probed at the
                                  first run and at every gateway start; repeatable
  --egress-mode strict|warn       strict (default): a probe that answers stops the install and the gateway
  --audit-origin NAME             the audit log's name (default <hostname>/atomic/audit); never reused elsewhere
  --gpu cpu|auto|cuda             llama.cpp backend (default cpu, or auto when the bundle carries CUDA builds)
  --systemd-dir DIR               where the units go (default /etc/systemd/system)
  --no-systemctl                  write the units but do not call systemctl (automatic when systemd is not running)
  --no-backup                     on an upgrade, do not copy the stopped database aside before migrating
  --restore-database              (rollback) put back the database copy taken before the upgrade being undone`;

class Refusal extends Error {}

function fail(message, code = 1) {
  process.stderr.write(`install: ${message}\n`);
  process.exit(code);
}

const progress = createProgress({ name: "install" });
const say = (line) => process.stdout.write(`${line}\n`);

function parse(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "release-key": { type: "string" },
      "release-key-fingerprint": { type: "string" },
      prefix: { type: "string", default: "/opt/atomic" },
      "data-dir": { type: "string" },
      user: { type: "string" },
      profile: { type: "string" },
      "database-url": { type: "string" },
      "database-network": { type: "string", multiple: true },
      temporal: { type: "string" },
      "temporal-postgres-url": { type: "string" },
      "temporal-postgres-password-file": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "client-network": { type: "string", multiple: true },
      "temporal-port": { type: "string" },
      "egress-probe": { type: "string", multiple: true },
      "egress-mode": { type: "string" },
      "audit-origin": { type: "string" },
      gpu: { type: "string" },
      "systemd-dir": { type: "string" },
      "no-systemctl": { type: "boolean", default: false },
      "no-backup": { type: "boolean", default: false },
      "restore-database": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  return { values, positionals };
}

// ---------------------------------------------------------------- trust

function readBundleJson() {
  return JSON.parse(readFileSync(join(BUNDLE_ROOT, "BUNDLE.json"), "utf8"));
}

/**
 * The key the bundle must be signed with. It never comes from the bundle alone: either the operator hands it in
 * (received apart from the tarball), or hands in its fingerprint, or an earlier install pinned it.
 */
function trustedKey(values, pinnedKeyFile) {
  if (values["release-key"]) {
    const key = parsePublicKey(readFileSync(values["release-key"], "utf8"), values["release-key"]);
    return { key, source: values["release-key"] };
  }
  if (values["release-key-fingerprint"]) {
    const wanted = normaliseFingerprint(values["release-key-fingerprint"]);
    const file = join(BUNDLE_ROOT, RELEASE_KEY_IN_BUNDLE);
    const key = parsePublicKey(readFileSync(file, "utf8"), file);
    const actual = fingerprintOf(key);
    if (actual !== wanted) {
      throw new Refusal(`the bundle's release key has fingerprint ${displayFingerprint(actual)}, not the ${displayFingerprint(wanted)} you were given: do not install this bundle`);
    }
    return { key, source: `${RELEASE_KEY_IN_BUNDLE} (fingerprint confirmed)` };
  }
  if (pinnedKeyFile && existsSync(pinnedKeyFile)) {
    return { key: parsePublicKey(readFileSync(pinnedKeyFile, "utf8"), pinnedKeyFile), source: `${pinnedKeyFile} (pinned at the first install)` };
  }
  throw new Refusal(
    "no release key: pass --release-key FILE (the public key you received apart from this bundle) or " +
      "--release-key-fingerprint FP. The copy inside the bundle proves nothing by itself: whoever could change the " +
      "bundle could change it too.",
  );
}

async function verifyOrRefuse(trust) {
  say(`release key: ${displayFingerprint(fingerprintOf(trust.key))} from ${trust.source}`);
  const step = progress.step("verifying the signature and every file's SHA-256");
  const result = await verifyBundle(BUNDLE_ROOT, trust.key, { onProgress: (d, t) => step.update(d, t) });
  if (!result.ok) {
    step.fail(`${result.problems.length} problem(s)`);
    for (const { path, problem } of result.problems.slice(0, 50)) process.stderr.write(`refused: ${path}: ${problem}\n`);
    if (result.problems.length > 50) process.stderr.write(`refused: ... and ${result.problems.length - 50} more\n`);
    process.stderr.write("install: the bundle does not verify; nothing was written. Get a fresh copy from the release's source.\n");
    process.exit(3);
  }
  step.done(`${result.files.length} files, ${formatBytes(result.bytes)}`);
  return result;
}

// ---------------------------------------------------------------- layout

function layoutOf(prefix, dataDir) {
  return {
    prefix,
    releases: join(prefix, "releases"),
    current: join(prefix, "current"),
    previous: join(prefix, "previous"),
    etc: join(prefix, "etc"),
    bin: join(prefix, "bin"),
    config: join(prefix, "etc", "atomic.config.json"),
    env: join(prefix, "etc", "atomic.env"),
    policies: join(prefix, "etc", "policies"),
    pinnedKey: join(prefix, "etc", "release.pub.jwk"),
    history: join(prefix, "etc", "install-history.log"),
    data: dataDir,
    pgdata: join(dataDir, "postgres"),
    keys: join(dataDir, "keys"),
    models: join(dataDir, "models"),
    temporal: join(dataDir, "temporal"),
    backups: join(dataDir, "backups"),
    exports: join(dataDir, "exports"),
  };
}

/** The release a link points at (releases/<version>), or null. */
function linkedRelease(link) {
  try {
    if (!lstatSync(link).isSymbolicLink()) throw new Refusal(`${link} exists and is not a link: this prefix was not made by this installer`);
  } catch (error) {
    if (error instanceof Refusal) throw error;
    return null;
  }
  const target = readlinkSync(link);
  const match = /^releases\/([^/]+)$/.exec(target);
  if (!match) throw new Refusal(`${link} points at ${target}, not at a release under releases/`);
  return match[1];
}

/** Replaces a link in one step (rename over it), so `current` is never missing, even for a moment. */
function pointLink(link, target) {
  const temporary = `${link}.new-${process.pid}`;
  rmSync(temporary, { force: true });
  symlinkSync(target, temporary);
  renameSync(temporary, link);
}

function historyLine(layout, text) {
  appendFileSync(layout.history, `${new Date().toISOString()} ${text}\n`, { mode: 0o644 });
}

// ---------------------------------------------------------------- copying

/**
 * Copies every listed file into the release folder, hashing what it reads as it writes it: the verification pass
 * before proved the bundle, this proves that what landed is what was proved (nothing changed in between).
 */
async function copyRelease(verified, destination) {
  const executables = new Set(verified.meta.executables);
  const step = progress.step("copying the release");
  const total = verified.bytes;
  let done = 0;
  mkdirSync(destination, { recursive: true, mode: 0o755 });
  const copyOne = async ({ path, sha256 }) => {
    const from = join(BUNDLE_ROOT, path);
    const to = join(destination, path);
    mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
    const hash = createHash("sha256");
    const size = lstatSync(from).size;
    if (size < 8 * 1024 * 1024) {
      // Most files are small: one read, one write.
      const bytes = await readFile(from);
      hash.update(bytes);
      await writeFile(to, bytes, { mode: 0o600 });
      done += bytes.length;
      step.update(done, total);
    } else {
      const counter = new Transform({
        transform(chunk, _encoding, callback) {
          hash.update(chunk);
          done += chunk.length;
          step.update(done, total);
          callback(null, chunk);
        },
      });
      await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), counter, createWriteStream(to, { mode: 0o600 }));
    }
    const actual = hash.digest("hex");
    if (actual !== sha256) {
      throw new Refusal(`${path} changed while it was being copied (SHA-256 ${actual}, signed ${sha256}); the partial copy was removed`);
    }
    // Code belongs to root and is read-only to the service: a compromised service cannot rewrite what it runs.
    await chmod(to, executables.has(path) ? 0o755 : 0o644);
  };
  const queue = [...verified.files];
  try {
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await copyOne(next);
    }));
  } catch (error) {
    step.fail();
    throw error;
  }
  for (const { path, target } of verified.meta.symlinks) {
    mkdirSync(dirname(join(destination, path)), { recursive: true, mode: 0o755 });
    symlinkSync(target, join(destination, path));
  }
  step.done(`${verified.files.length} files, ${formatBytes(total)}`);
}

// ---------------------------------------------------------------- carried models

/** The ids a release's (or a bundle's) models/manifest.json pins; none when it carries no models. */
function carriedModelIds(root) {
  const manifest = join(root, CARRIED_MODELS, "manifest.json");
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, "utf8")).models.map((m) => m.id) : [];
}

function linkTree(from, to) {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const name of readdirSync(from)) {
    if (lstatSync(join(from, name)).isDirectory()) linkTree(join(from, name), join(to, name));
    else linkSync(join(from, name), join(to, name));
  }
}

/**
 * A bundle that carries no models keeps the ones the installed release carries: their files are hard-linked into
 * the new release (the same bytes, not a second copy), so `current` goes on serving them and each release stays
 * whole for a rollback. A bundle with models replaces them: its own are in the new release already.
 */
function keepCarriedModels(verified, installedDir, destination) {
  if (verified.files.some((f) => f.path === `${CARRIED_MODELS}/manifest.json`)) return [];
  const kept = carriedModelIds(installedDir);
  if (kept.length > 0) linkTree(join(installedDir, CARRIED_MODELS), join(destination, CARRIED_MODELS));
  return kept;
}

/**
 * A configuration written before releases carried models has no models.family, and the gateway's default for it
 * is a development path: the one key the installer adds to a configuration the site owns (mode and owner kept).
 */
function addFamilyToOlderConfig(layout) {
  const config = JSON.parse(readFileSync(layout.config, "utf8"));
  if (config.models?.family !== undefined) return false;
  config.models = { ...config.models, family: familyManifestPath(layout.prefix) };
  writeFileSync(layout.config, `${JSON.stringify(config, null, 2)}\n`);
  return true;
}

/**
 * The first run checks the models this release will serve. The configuration names the carried family through
 * `current`, which points at the release being replaced (or nowhere) until the install ends: this release's own is
 * named instead, when the configuration uses the installer's path.
 */
function familyOfRelease(siteConfig, layout, releaseDir) {
  if (siteConfig.models?.family !== familyManifestPath(layout.prefix)) return {};
  return { ATOMIC_MODELS_FAMILY: join(releaseDir, CARRIED_MODELS, "manifest.json") };
}

// ---------------------------------------------------------------- first run

function serviceEnv(layout, releaseDir, options) {
  const env = {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: layout.data,
    LC_ALL: "C",
    ATOMIC_CONFIG: layout.config,
    ATOMIC_PG_BIN_DIR: join(releaseDir, "postgres", "bin"),
    NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true",
  };
  // The dev server's binary, where the bundle carries it (a bundle with the production server does not).
  if (existsSync(join(releaseDir, "temporal", "bin", "temporal"))) env.ATOMIC_TEMPORAL_BINARY = join(releaseDir, "temporal", "bin", "temporal");
  // all-in-one: no DATABASE_URL, so Atomic starts the bundle's PostgreSQL on the data directory itself (creating
  // the cluster on the first run), exactly as the PostgreSQL unit will then run it.
  if (options.profile === "external-db") env.DATABASE_URL = options.databaseUrl;
  return env;
}

function atomicCommand(user, layout, releaseDir, options, args, what, extraEnv = {}) {
  const step = progress.step(what);
  const node = join(releaseDir, "node", "bin", "node");
  const result = runAs(user, node, [join(releaseDir, "app", "dist", "cli", "main.js"), ...args], {
    env: { ...serviceEnv(layout, releaseDir, options), ...extraEnv },
    cwd: layout.data,
    capture: true,
  });
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0) {
    step.fail(`exit ${result.status ?? result.signal}`);
    throw new Refusal(`atomic ${args.join(" ")} failed:\n${output}`);
  }
  step.done();
  if (output) say(output.split("\n").map((l) => `  ${l}`).join("\n"));
}

/** Egress probes of the configured targets, with Atomic's own probe code from the release being installed. */
function egressSelfTest(user, layout, releaseDir, config) {
  const targets = config.egress?.selfTest?.targets ?? [];
  const mode = config.egress?.selfTest?.mode ?? "strict";
  const step = progress.step("egress self-test");
  if (targets.length === 0 || mode === "off") {
    step.done("no probe targets configured: pass --egress-probe IP:PORT (e.g. the site proxy) to have this host's isolation checked");
    return;
  }
  const module = pathToFileURL(join(releaseDir, "app", "dist", "egress", "self-test.js")).href;
  const script = "const { probeEgress } = await import(process.argv[1]); process.stdout.write(JSON.stringify(await probeEgress(JSON.parse(process.argv[2]), Number(process.argv[3]))));";
  const result = runAs(user, join(releaseDir, "node", "bin", "node"), ["--input-type=module", "-e", script, module, JSON.stringify(targets), String(config.egress?.selfTest?.timeoutMs ?? 1500)], {
    env: { PATH: "/usr/bin:/bin", LC_ALL: "C" },
    cwd: layout.data,
    capture: true,
  });
  if (result.status !== 0) {
    step.fail();
    throw new Refusal(`the egress self-test could not run: ${result.stderr.trim()}`);
  }
  const outcome = JSON.parse(result.stdout);
  const lines = outcome.probes.map((p) => `  ${p.target}: ${p.reached ? "REACHED" : `not reached (${p.error})`}`).join("\n");
  if (outcome.egressPossible) {
    step.fail("a probe target answered");
    say(lines);
    if (mode === "strict") throw new Refusal("this host can reach beyond its network (a probe target answered); the gateway would refuse to start. Fix the network, or set --egress-mode warn");
    return;
  }
  step.done("no probe target reachable");
  say(lines);
}

// ---------------------------------------------------------------- commands

function checkPaths(prefix, dataDir) {
  for (const [name, path] of [["--prefix", prefix], ["--data-dir", dataDir]]) {
    if (!SAFE_PATH.test(path)) throw new Refusal(`${name} must be an absolute path of letters, digits and . _ - / only (it goes into unit files and shell): ${path}`);
  }
}

/** A value from the environment file the installer wrote (NAME="value" lines). */
function envFileValue(file, name) {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`${name}="`));
  return line?.slice(name.length + 2, -1);
}

/**
 * The database's address for the units' IPAddressAllow=, when the URL names one; a host name cannot go there (the
 * units resolve nothing), so then the operator must name the network.
 */
function networksOf(url) {
  const host = /^postgres(?:ql)?:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]*)/.exec(url ?? "")?.[1]?.replace(/^\[|\]$/g, "") ?? "";
  if (host === "" || host === "localhost" || /^127\./.test(host) || host === "::1") return [];
  if (/^[0-9.]+$/.test(host) || host.includes(":")) return [host];
  throw new Refusal(`the database URL names the host ${host}; the units allow only addresses (IPAddressAllow=): add --database-network with its address or network`);
}

/** What an install chose, kept so that an upgrade or a rollback run without flags does the same. */
const INSTALL_RECORD = "install.json";
const RECORDED = ["dataDir", "profile", "user", "systemdDir", "temporalPort", "clientNetworks", "temporal", "databaseNetworks"];

function readInstallRecord(prefix) {
  const file = join(prefix, "etc", INSTALL_RECORD);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
}

/**
 * The operator's choices, checked before anything is written. On an upgrade the recorded choices are the
 * defaults, and a flag that contradicts one is refused: moving the data or switching profiles is a migration of
 * its own, not something an upgrade should do on the side.
 */
function optionsFrom(values, bundle, record) {
  const prefix = values.prefix.replace(/\/+$/, "");
  const chosen = {
    dataDir: values["data-dir"]?.replace(/\/+$/, ""),
    profile: values.profile,
    user: values.user,
    systemdDir: values["systemd-dir"],
    temporalPort: values["temporal-port"] === undefined ? undefined : Number(values["temporal-port"]),
    clientNetworks: values["client-network"],
    temporal: values.temporal,
    databaseNetworks: values["database-network"],
  };
  if (record) {
    for (const name of RECORDED) {
      const given = chosen[name];
      if (given !== undefined && JSON.stringify(given) !== JSON.stringify(record[name])) {
        throw new Refusal(`${prefix} was installed with ${name} ${JSON.stringify(record[name])}; an upgrade keeps it (given: ${JSON.stringify(given)})`);
      }
      chosen[name] = record[name];
    }
  }
  const dataDir = chosen.dataDir ?? join(prefix, "var");
  checkPaths(prefix, dataDir);
  const profile = chosen.profile ?? "all-in-one";
  if (profile !== "all-in-one" && profile !== "external-db") throw new Refusal(`--profile must be all-in-one or external-db, not ${profile}`);
  if (profile === "external-db" && !values["database-url"] && !record) throw new Refusal("--profile external-db needs --database-url postgresql://...");
  if (profile === "all-in-one" && values["database-url"]) throw new Refusal("--database-url belongs to --profile external-db; all-in-one runs its own PostgreSQL");
  const port = Number(values.port ?? 8080);
  const temporalPort = chosen.temporalPort ?? 7233;
  for (const [name, n] of [["--port", port], ["--temporal-port", temporalPort]]) {
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Refusal(`${name} must be a port number`);
  }
  const egressProbes = values["egress-probe"] ?? [];
  for (const probe of egressProbes) {
    if (!/^(?:\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+):\d{1,5}$/.test(probe)) throw new Refusal(`--egress-probe takes IP:PORT (an address literal, so no name lookup leaves), not ${probe}`);
  }
  const clientNetworks = chosen.clientNetworks ?? [];
  for (const network of clientNetworks) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(network)) throw new Refusal(`--client-network takes an address or CIDR, not ${network}`);
  }
  const egressMode = values["egress-mode"] ?? "strict";
  if (!["strict", "warn"].includes(egressMode)) throw new Refusal("--egress-mode must be strict or warn");
  const user = chosen.user ?? "atomic";
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Refusal(`--user ${user} is not a valid account name`);
  const gpu = values.gpu ?? (bundle.llama.builds.includes("cuda") ? "auto" : "cpu");
  if (!["cpu", "auto", "cuda"].includes(gpu)) throw new Refusal("--gpu must be cpu, auto or cuda");
  if (gpu === "cuda" && !bundle.llama.builds.includes("cuda")) throw new Refusal("--gpu cuda: this bundle carries the CPU build of llama.cpp only (build it with --cuda)");
  if (profile === "all-in-one") {
    const problem = socketPathProblem(dataDir);
    if (problem) throw new Refusal(problem);
  }
  const databaseUrl = profile === "all-in-one" ? socketDatabaseUrl(dataDir) : values["database-url"] ?? envFileValue(join(prefix, "etc", "atomic.env"), "DATABASE_URL");
  const databaseNetworks = chosen.databaseNetworks ?? (profile === "external-db" ? networksOf(databaseUrl) : []);
  for (const network of databaseNetworks) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(network)) throw new Refusal(`--database-network takes an address or CIDR, not ${network}`);
  }
  // A bundle carries one Temporal (BUNDLE.json: temporal.server or temporal.cli), older ones both.
  const serverInBundle = Boolean(bundle.temporal.server?.supervisor);
  const cliInBundle = Boolean(bundle.temporal.cli);
  const temporal = chosen.temporal ?? (serverInBundle && (profile === "all-in-one" || !cliInBundle) ? "server" : "dev");
  if (temporal !== "server" && temporal !== "dev") throw new Refusal(`--temporal must be server or dev, not ${temporal}`);
  const installed = record ? ` (${prefix} runs --temporal ${temporal}; changing it moves Temporal's state, which an upgrade does not do)` : "";
  if (temporal === "server" && !serverInBundle) {
    throw new Refusal(`--temporal server: this bundle carries only the Temporal CLI's dev server (built with --temporal dev, or without .tools/temporal-server; see BUNDLE.json)${installed}`);
  }
  if (temporal === "dev" && !cliInBundle) {
    throw new Refusal(`--temporal dev: this bundle carries only Temporal's production server (built with --temporal server; see BUNDLE.json)${installed}`);
  }
  if (temporal === "server" && profile === "external-db" && !values["temporal-postgres-url"] && !record) {
    throw new Refusal(
      "--temporal server with --profile external-db needs --temporal-postgres-url (a role that may create Temporal's two databases)" +
        (cliInBundle ? "" : "; this bundle carries no dev server (a bundle built with --temporal dev does)"),
    );
  }
  const systemdDir = chosen.systemdDir ?? "/etc/systemd/system";
  if (!SAFE_PATH.test(systemdDir)) throw new Refusal(`--systemd-dir must be an absolute path: ${systemdDir}`);
  return {
    prefix,
    dataDir,
    profile,
    user,
    host: values.host ?? "127.0.0.1",
    port,
    temporalPort,
    clientNetworks,
    egressProbes,
    egressMode,
    auditOrigin: values["audit-origin"] ?? defaultAuditOrigin(),
    gpu,
    databaseUrl,
    databaseNetworks,
    temporal,
    temporalPostgresUrl: profile === "all-in-one" ? socketAdminUrl(dataDir) : values["temporal-postgres-url"],
    temporalPasswordFile: values["temporal-postgres-password-file"],
    systemdDir,
    useSystemctl: !values["no-systemctl"] && systemdRunning(),
    backup: !values["no-backup"],
  };
}

/**
 * Missing folders above path are made 0755 whatever root's umask (mkdir -p would give them the umask's mode, 0700
 * under umask 077): the service account must be able to pass through them to its data and its code.
 */
function ensureDir(path, mode, owner) {
  const missing = [];
  for (let parent = dirname(path); !existsSync(parent); parent = dirname(parent)) missing.unshift(parent);
  for (const folder of missing) {
    mkdirSync(folder);
    chmodSync(folder, 0o755);
  }
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  if (owner) chownSync(path, owner.uid, owner.gid);
}

function writeOwned(path, text, mode, owner) {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  chownSync(path, owner?.uid ?? 0, owner?.gid ?? 0);
}

/**
 * The service account must be able to enter every folder above its data directory and the installation (the
 * services run from there as that account). Checked before anything is written; an account not created yet owns
 * nothing and is in no folder's group, so everyone's bit is what counts for it.
 */
function refuseUntraversable(layout, account, name) {
  for (const [what, option, path] of [["data directory", "--data-dir", layout.data], ["installation", "--prefix", layout.prefix]]) {
    const blocked = untraversableAncestor(path, account);
    if (blocked) {
      throw new Refusal(`the ${name} account cannot enter ${blocked.folder}, above its ${what} ${path}: allow it (chmod ${blocked.fix} ${blocked.folder}) or choose another ${option}`);
    }
  }
}

/** The next step once installed: systemd where it runs, else the runner that starts the same units. */
function startHint(layout) {
  return systemdRunning() ? "systemctl start atomic.target" : `${layout.bin}/atomic-up  (no systemd here: it starts the units' services and stays in the foreground; INSTALL.md section 4)`;
}

/** Returns whether it stopped the units itself (then it starts them again once the upgrade is done). */
function stopServicesOrRefuse(options, layout) {
  let stopped = false;
  if (options.useSystemctl && systemctl(["is-active", "--quiet", "atomic.target"]).status === 0) {
    say("stopping atomic.target for the upgrade");
    systemctl(["stop", "atomic.target", ...unitsFor(options.profile)]);
    stopped = true;
  }
  if (options.profile !== "all-in-one") return stopped;
  const pid = livePostmaster(layout.pgdata);
  if (pid !== null) {
    throw new Refusal(`Atomic's PostgreSQL is running (pid ${pid}); stop the services first (systemctl stop atomic.target, or SIGTERM to atomic-up), then run the installer again`);
  }
  return stopped;
}

async function installCommand(values) {
  if (process.getuid?.() !== 0) throw new Refusal("the installer creates an account, sets ownership and writes units: run it as root (sudo ./install ...)");
  const bundle = readBundleJson();
  const options = optionsFrom(values, bundle, readInstallRecord(values.prefix.replace(/\/+$/, "")));
  const layout = layoutOf(options.prefix, options.dataDir);
  refuseUntraversable(layout, lookupUser(options.user) ?? { uid: -1, gid: -1 }, options.user);
  const installed = linkedRelease(layout.current);
  const trust = trustedKey(values, installed ? layout.pinnedKey : null);
  const verified = await verifyOrRefuse(trust);

  // Nothing has been written up to here.
  const version = bundle.version;
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) throw new Refusal(`the bundle's version ${version} cannot name a folder`);
  if (installed === version) {
    say(`Atomic ${version} is already the current release in ${options.prefix}; nothing to do`);
    return 0;
  }
  const upgrade = installed !== null;
  let restartAfter = false;
  say(upgrade ? `upgrading ${options.prefix} from ${installed} to ${version}` : `installing Atomic ${version} into ${options.prefix} (${options.profile})`);
  if (upgrade) {
    restartAfter = stopServicesOrRefuse(options, layout);
    const pgVersionFile = join(layout.pgdata, "PG_VERSION");
    if (existsSync(pgVersionFile)) {
      const major = readFileSync(pgVersionFile, "utf8").trim();
      if (options.profile === "all-in-one" && major !== String(bundle.postgres.major)) {
        throw new Refusal(`the database in ${layout.pgdata} is PostgreSQL ${major}, this bundle carries ${bundle.postgres.major}: a major upgrade needs pg_upgrade, which this installer does not do`);
      }
    }
  }

  const accountStep = progress.step(`service account ${options.user}`);
  const account = ensureSystemUser(options.user, layout.data);
  const user = { ...account, group: groupName(account.gid) };
  accountStep.done(`${account.created ? "created" : "exists"}: uid ${user.uid}, gid ${user.gid}`);

  for (const path of [layout.prefix, layout.releases, layout.etc, layout.bin]) ensureDir(path, 0o755, { uid: 0, gid: 0 });
  ensureDir(layout.data, 0o700, user);
  // Again with the account as it now is (its group may own a folder the check before could not know of).
  refuseUntraversable(layout, user, user.name);
  ensureDir(layout.keys, 0o700, user);
  ensureDir(layout.models, 0o750, user);
  ensureDir(layout.temporal, 0o700, user);
  ensureDir(layout.exports, 0o700, user);

  const releaseDir = join(layout.releases, version);
  const partial = `${releaseDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  let keptModels = [];
  try {
    await copyRelease(verified, partial);
    if (upgrade) keptModels = keepCarriedModels(verified, join(layout.releases, installed), partial);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  if (existsSync(releaseDir)) rmSync(releaseDir, { recursive: true, force: true });
  renameSync(partial, releaseDir);
  if (keptModels.length > 0) say(`kept the models ${installed} carries (${keptModels.join(", ")}): this bundle carries none`);

  // Configuration belongs to the site: written once, never overwritten by an upgrade.
  const config = {
    host: options.host, port: options.port, dataDir: layout.data, prefix: layout.prefix, auditOrigin: options.auditOrigin, gpu: options.gpu,
    egressMode: options.egressMode, egressProbes: options.egressProbes,
  };
  const serviceGroup = { uid: 0, gid: user.gid };
  if (!existsSync(layout.config)) {
    writeOwned(layout.config, renderConfig(config), 0o640, serviceGroup);
  } else {
    say(`kept ${layout.config} (the site's; the flags that would have written it were not applied)`);
    if (addFamilyToOlderConfig(layout)) say(`  added models.family: ${familyManifestPath(layout.prefix)} (the models each release carries)`);
  }
  if (!existsSync(layout.env)) writeOwned(layout.env, renderEnv({ ...options, prefix: layout.prefix, dataDir: layout.data }), 0o640, serviceGroup);
  else say(`kept ${layout.env}`);
  const temporalEnv = join(layout.etc, "temporal.env");
  if (options.temporal === "server" && !existsSync(temporalEnv)) writeOwned(temporalEnv, renderTemporalEnv(options), 0o640, serviceGroup);
  if (!existsSync(layout.policies)) {
    cpSync(join(releaseDir, "app", "policies"), layout.policies, { recursive: true });
    say(`policies: ${layout.policies} (from the release's defaults; edit there, check with atomic policy check)`);
  } else {
    say(`kept the site's policies in ${layout.policies}; this release's defaults are in ${releaseDir}/app/policies`);
  }
  const manifest = join(layout.models, "manifest.json");
  if (!existsSync(manifest)) writeOwned(manifest, readFileSync(join(releaseDir, "app", "models", "manifest.json"), "utf8"), 0o640, user);
  if (values["release-key"] || values["release-key-fingerprint"] || !existsSync(layout.pinnedKey)) {
    const previous = existsSync(layout.pinnedKey) ? fingerprintOf(parsePublicKey(readFileSync(layout.pinnedKey, "utf8"))) : null;
    const now = fingerprintOf(trust.key);
    writeOwned(layout.pinnedKey, `${JSON.stringify(trust.key.export({ format: "jwk" }))}\n`, 0o644, null);
    if (previous && previous !== now) say(`release key changed: ${displayFingerprint(previous)} -> ${displayFingerprint(now)} (pinned in ${layout.pinnedKey})`);
  }

  const siteConfig = JSON.parse(readFileSync(layout.config, "utf8"));
  // Checks that change nothing come first, so a failure leaves an upgrade's database as it was.
  atomicCommand(user, layout, releaseDir, options, ["models", "verify"], "model digests (atomic models verify)", familyOfRelease(siteConfig, layout, releaseDir));
  egressSelfTest(user, layout, releaseDir, siteConfig);
  if (upgrade && options.profile === "all-in-one" && options.backup && existsSync(join(layout.pgdata, "PG_VERSION"))) {
    const target = join(layout.backups, `postgres-${installed}-before-${version}-${new Date().toISOString().replace(/[:.]/g, "")}`);
    const step = progress.step(`copying the stopped database aside (${target})`);
    ensureDir(layout.backups, 0o700, user);
    const copy = spawnSync("cp", ["-a", layout.pgdata, target], { encoding: "utf8" });
    if (copy.status !== 0) throw new Refusal(`could not copy the database aside: ${copy.stderr}`);
    step.done();
  }
  if (!existsSync(join(layout.keys, "audit-signing.pem"))) {
    atomicCommand(user, layout, releaseDir, options, ["keys", "generate"], "audit signing key (atomic keys generate)");
  } else {
    say(`kept the audit signing key in ${layout.keys}`);
  }
  atomicCommand(user, layout, releaseDir, options, ["migrate"], upgrade ? "database migrations, forward" : "database: create and migrate");

  if (upgrade) pointLink(layout.previous, `releases/${installed}`);
  pointLink(layout.current, `releases/${version}`);
  writeOwned(join(layout.etc, INSTALL_RECORD), `${JSON.stringify(Object.fromEntries(RECORDED.map((k) => [k, options[k]])), null, 2)}\n`, 0o644, null);
  historyLine(layout, upgrade ? `upgrade ${installed} -> ${version}` : `install ${version}`);

  writeOwned(join(layout.bin, "atomic"), renderWrapper({ prefix: layout.prefix, user: user.name, group: user.group }), 0o755, null);
  writeOwned(join(layout.bin, "atomic-up"), renderUpWrapper({ prefix: layout.prefix, systemdDir: options.systemdDir }), 0o755, null);
  const unitOptions = { ...options, prefix: layout.prefix, dataDir: layout.data, user: user.name, group: user.group };
  mkdirSync(options.systemdDir, { recursive: true, mode: 0o755 });
  for (const unit of unitsFor(options.profile)) {
    const template = readFileSync(join(releaseDir, "systemd", templateFor(unit, options.temporal)), "utf8");
    writeOwned(join(options.systemdDir, unit), renderUnit(template, unitOptions), 0o644, null);
  }
  if (options.useSystemctl) {
    systemctl(["daemon-reload"]);
    systemctl(["enable", "atomic.target"]);
    if (restartAfter) {
      say("starting atomic.target again");
      systemctl(["start", "atomic.target"]);
    }
  }

  say("");
  say(`Atomic ${version} is installed in ${layout.prefix} (current -> releases/${version}${upgrade ? `, previous -> releases/${installed}` : ""}).`);
  say(`  units:           ${unitsFor(options.profile).map((u) => join(options.systemdDir, u)).join(", ")}`);
  say(`  start:           ${options.useSystemctl || !systemdRunning() ? startHint(layout) : "systemctl daemon-reload && systemctl start atomic.target"}`);
  say(`  command line:    ${layout.bin}/atomic  (as root it runs as ${user.name})`);
  say(`  audit key:       ${layout.keys}/audit-signing.pub.jwk (give it to your auditors)`);
  say(`  admin API key:   ${layout.data}/admin-api-key (written by the gateway's first start)`);
  const carried = carriedModelIds(releaseDir);
  say(carried.length > 0
    ? `  carried models:  ${carried.join(", ")} in ${layout.current}/${CARRIED_MODELS} (licences in ${CARRIED_MODELS}/licences/)`
    : "  carried models:  none (this bundle was built without --models)");
  say(`  site's models:   ${layout.bin}/atomic models add /path/to/model.gguf --id NAME, then systemctl restart atomic-gateway atomic-worker`);
  if (upgrade) say(`  rollback:        ${layout.current}/install rollback --prefix ${layout.prefix}  (see INSTALL.md)`);
  say(options.temporal === "server"
    ? `  temporal:        production server on PostgreSQL (${options.profile === "all-in-one" ? "the bundle's cluster" : "--temporal-postgres-url"}), loopback only`
    : `  temporal:        the Temporal CLI's server on SQLite (${layout.temporal})${bundle.temporal.server ? "" : "; this bundle has no production server"}`);
  return 0;
}

async function verifyCommand(values) {
  const trust = trustedKey(values, null);
  await verifyOrRefuse(trust);
  const bundle = readBundleJson();
  say(`OK: Atomic ${bundle.version} (${bundle.platform}) is exactly what the release key signed`);
  const carried = carriedModelIds(BUNDLE_ROOT);
  say(carried.length > 0 ? `models carried: ${carried.join(", ")} (${CARRIED_MODELS}/, licences in ${CARRIED_MODELS}/licences/)` : "models carried: none");
  return 0;
}

function rollbackCommand(values) {
  if (process.getuid?.() !== 0) throw new Refusal("run rollback as root");
  const prefix = values.prefix.replace(/\/+$/, "");
  const record = readInstallRecord(prefix);
  if (!record) throw new Refusal(`${prefix} holds no installation made by this installer (${INSTALL_RECORD} is missing)`);
  const layout = layoutOf(prefix, record.dataDir);
  const current = linkedRelease(layout.current);
  const previous = linkedRelease(layout.previous);
  if (!current || !previous) throw new Refusal(`${prefix} has no previous release to roll back to`);
  if (!existsSync(join(layout.releases, previous))) throw new Refusal(`${join(layout.releases, previous)} is gone`);
  const pid = livePostmaster(layout.pgdata);
  if (pid !== null) throw new Refusal(`Atomic's PostgreSQL is running (pid ${pid}): stop the services first (systemctl stop atomic.target, or SIGTERM to atomic-up)`);
  if (values["restore-database"]) {
    const prefixName = `postgres-${previous}-before-${current}-`;
    const copies = existsSync(layout.backups) ? readdirSync(layout.backups).filter((n) => n.startsWith(prefixName)).sort() : [];
    if (copies.length === 0) throw new Refusal(`no database copy ${prefixName}* in ${layout.backups}`);
    const copy = join(layout.backups, copies[copies.length - 1]);
    const aside = join(layout.backups, `postgres-${current}-rolled-back-${new Date().toISOString().replace(/[:.]/g, "")}`);
    renameSync(layout.pgdata, aside);
    const restore = spawnSync("cp", ["-a", copy, layout.pgdata], { encoding: "utf8" });
    if (restore.status !== 0) {
      renameSync(aside, layout.pgdata);
      throw new Refusal(`could not restore ${copy}: ${restore.stderr}`);
    }
    say(`database restored from ${copy}; the one you rolled back from is kept in ${aside}`);
  }
  pointLink(layout.current, `releases/${previous}`);
  pointLink(layout.previous, `releases/${current}`);
  historyLine(layout, `rollback ${current} -> ${previous}${values["restore-database"] ? " (database restored)" : ""}`);
  say(`current -> releases/${previous}, previous -> releases/${current}. Start it: ${startHint(layout)}`);
  if (!values["restore-database"]) {
    say("the database keeps the schema the newer release migrated it to; if the older release refuses it, stop, then run rollback again with --restore-database");
  }
  return 0;
}

function fingerprintCommand(positionals) {
  const file = positionals[0];
  if (!file) throw new Refusal("usage: ./install fingerprint FILE");
  say(displayFingerprint(fingerprintOf(parsePublicKey(readFileSync(file, "utf8"), file))));
  return 0;
}

async function main() {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    fail(`${error.message}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const [command = "install", ...rest] = positionals;
  switch (command) {
    case "install": return installCommand(values);
    case "verify": return verifyCommand(values);
    case "rollback": return rollbackCommand(values);
    case "fingerprint": return fingerprintCommand(rest);
    default: fail(`unknown command ${command}\n${USAGE}`, 2);
  }
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof Refusal) fail(`refused: ${error.message}`, 1);
    fail(error?.stack ?? String(error), 1);
  },
);
