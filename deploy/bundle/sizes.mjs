/**
 * The installed size of a staged bundle by component, for the build output and report.json: the Node.js runtime,
 * the compiled gateway, node_modules by package group, each llama.cpp backend, each Temporal binary, PostgreSQL,
 * the carried models, the SDKs, and the rest. A package of node_modules counts toward the dependency of
 * package.json that brings it in (the Temporal SDK's four packages as one group); one that several bring in counts as shared.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { installedPackages, reachablePackages, sizeOf } from "./trim.mjs";

/** A package's own bytes: its folder less the packages nested in its node_modules (counted on their own). */
function ownBytes(path) {
  return sizeOf(path) - sizeOf(join(path, "node_modules"));
}

const groupOf = (dependency) => (dependency.startsWith("@temporalio/") ? "@temporalio/* (Temporal SDK, native bridge)" : dependency);
/** Groups under this are summed into one line, named. */
const SMALL_GROUP = 1024 * 1024;

export function nodeModulesByGroup(appDir) {
  const modules = join(appDir, "node_modules");
  const dependencies = Object.keys(JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")).dependencies ?? {});
  const owners = new Map();
  for (const dependency of dependencies) {
    for (const path of reachablePackages(appDir, [], [dependency])) {
      if (!owners.has(path)) owners.set(path, new Set());
      owners.get(path).add(groupOf(dependency));
    }
  }
  const backends = [];
  const groups = new Map();
  for (const { name, path } of installedPackages(modules)) {
    const bytes = ownBytes(path);
    if (name.startsWith("@node-llama-cpp/")) {
      backends.push({ label: `llama.cpp backend ${name.slice("@node-llama-cpp/".length)}`, bytes });
      continue;
    }
    const mine = [...(owners.get(path) ?? [])];
    const group = mine.length === 1 ? mine[0] : mine.length === 0 ? "not reached from package.json" : "shared by several dependencies";
    groups.set(group, (groups.get(group) ?? 0) + bytes);
  }
  const sorted = [...groups].sort((a, b) => b[1] - a[1]);
  const big = sorted.filter(([group, bytes]) => bytes >= SMALL_GROUP || group.startsWith("shared"));
  const small = sorted.filter((entry) => !big.includes(entry));
  const lines = big.map(([group, bytes]) => ({ label: `node_modules: ${group}`, bytes }));
  if (small.length > 0) lines.push({ label: `node_modules: ${small.map(([g]) => g).join(", ")}`, bytes: small.reduce((s, [, b]) => s + b, 0) });
  return { backends, groups: lines };
}

/**
 * [{label, bytes}] in a fixed order, and the total. `rest` is everything not named: the installer, units,
 * policies, the SBOM, the checksums, app/deploy, node_modules' own leftovers.
 */
export function sizeReport(stage) {
  const appDir = join(stage, "app");
  const { backends, groups } = nodeModulesByGroup(appDir);
  const bin = join(stage, "temporal", "bin");
  // A link (temporal-sql-tool, built into temporal-server) is named beside its target rather than counted.
  const names = existsSync(bin) ? readdirSync(bin).sort() : [];
  const links = names.filter((n) => lstatSync(join(bin, n)).isSymbolicLink());
  const temporal = names.filter((n) => !links.includes(n)).map((name) => {
    const aliases = links.filter((l) => readlinkSync(join(bin, l)) === name);
    return { label: `Temporal binary ${name}${aliases.length > 0 ? ` (also ${aliases.join(", ")}, a link to it)` : ""}`, bytes: sizeOf(join(bin, name)) };
  });
  const components = [
    { label: "Node.js runtime (node/)", bytes: sizeOf(join(stage, "node")) },
    { label: "gateway, compiled (app/dist)", bytes: sizeOf(join(appDir, "dist")) },
    ...backends,
    ...groups,
    ...temporal,
    { label: "PostgreSQL (postgres/)", bytes: sizeOf(join(stage, "postgres")) },
    ...(existsSync(join(stage, "models")) ? [{ label: "models with their licences (models/)", bytes: sizeOf(join(stage, "models")) }] : []),
    ...(existsSync(join(stage, "sdk")) ? [{ label: "SDKs for the site's developers (sdk/)", bytes: sizeOf(join(stage, "sdk")) }] : []),
  ];
  const total = sizeOf(stage);
  components.push({ label: "the rest (installer, units, policies, SBOM, checksums)", bytes: total - components.reduce((s, c) => s + c.bytes, 0) });
  return { components, total };
}
