#!/usr/bin/env node
/**
 * Builds @atomic/sdk into sdk/typescript/dist: index.js, the SDK bundled by esbuild together with the audit verifier
 * it imports from src/audit (the code audit/verify.mjs is made of: one source of truth), and the declarations tsc
 * writes for the SDK's own sources. The package has no runtime dependency: the bundle may import node built-ins only.
 *
 *   node sdk/typescript/build.mjs                 dist/index.js and dist/*.d.ts
 *   node sdk/typescript/build.mjs --pack DIR      the same, then `npm pack` of it into DIR
 *   node sdk/typescript/build.mjs --js-only --outdir DIR   the bundle alone, elsewhere (what the tests import)
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const here = import.meta.dirname;
const root = resolve(here, "..", "..");
const { values: args } = parseArgs({ options: { pack: { type: "string" }, "js-only": { type: "boolean" }, outdir: { type: "string" } } });
const outdir = resolve(args.outdir ?? join(here, "dist"));
if (args.pack !== undefined && (args["js-only"] || args.outdir !== undefined)) throw new Error("--pack packs the full build in sdk/typescript/dist: no --js-only, no --outdir");

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const { metafile } = await build({
  entryPoints: [join(here, "src", "index.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: join(outdir, "index.js"),
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const fromPackages = Object.keys(metafile.inputs).filter((input) => input.includes("node_modules"));
if (fromPackages.length > 0) throw new Error(`the bundle would carry packages, and the SDK has no runtime dependency: ${fromPackages.join(", ")}`);
for (const output of Object.values(metafile.outputs)) {
  const foreign = output.imports.filter((imported) => !imported.path.startsWith("node:"));
  if (foreign.length > 0) throw new Error(`the bundle imports ${foreign.map((imported) => imported.path).join(", ")}: node built-ins only`);
}

if (!args["js-only"]) {
  // tsc writes declarations for everything the sources import; the package ships the SDK's own, which must name
  // nothing outside it (the verifier's types are restated in src/verify-receipt.ts, checked against it there).
  const declarations = mkdtempSync(join(tmpdir(), "atomic-sdk-types-"));
  try {
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-p", join(here, "tsconfig.json"), "--outDir", declarations], { stdio: "inherit" });
    const sdkDeclarations = join(declarations, relative(root, join(here, "src")));
    for (const file of readdirSync(sdkDeclarations)) {
      const text = readFileSync(join(sdkDeclarations, file), "utf8");
      const outside = [...text.matchAll(/from "([^"]+)"/g)].map((match) => match[1]).filter((specifier) => !/^\.\/[\w-]+\.js$/.test(specifier));
      if (outside.length > 0) throw new Error(`${file} names ${outside.join(", ")}: declarations must stay within the package`);
      cpSync(join(sdkDeclarations, file), join(outdir, file));
    }
  } finally {
    rmSync(declarations, { recursive: true, force: true });
  }
}

if (args.pack !== undefined) {
  const destination = resolve(args.pack);
  mkdirSync(destination, { recursive: true });
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", destination], { cwd: here, encoding: "utf8" }));
  console.log(join(relative(process.cwd(), destination) || ".", packed.filename));
} else {
  console.log(relative(process.cwd(), outdir) || ".");
}
