import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..", "..", "..");

export interface BuiltBundle {
  version: string;
  name: string;
  tarball: string;
  /** The release public key the builder wrote beside the tarball: what an operator receives apart from it. */
  publicKey: string;
  report: {
    compressedBytes: number;
    installedBytes: number;
    /** The installed size the bundle must stay within: 400 MB (700 MB with CUDA) plus the carried models. */
    sizeTargetBytes: number | null;
    /** The installed size by component, as the builder prints it. */
    components: { label: string; bytes: number }[];
    /** Which Temporal the bundle carries. */
    temporal: "server" | "dev";
    totalMs: number;
    timingsMs: Record<string, number>;
    temporalServer: boolean;
    pruned: { path: string; bytes: number; why: string }[];
    models: { id: string; file: string; sha256: string; sizeBytes: number; licence: string }[];
  };
  /** How long this build took here (0 when an earlier build was reused). */
  buildMs: number;
}

/**
 * Builds a bundle from this repository with the given version stamp (node deploy/bundle/build.mjs), on this
 * connected machine, with the development release key: from the committed HEAD (--from-commit), so that work in
 * progress elsewhere in the checkout cannot break or leak into it; ATOMIC_BUNDLE_FROM=worktree builds the working
 * tree instead, ATOMIC_BUNDLE_FROM=<ref> another commit. ATOMIC_BUNDLE_REUSE=1 takes an earlier build of the same
 * name from outDir (for iterating on the tests, not for the record). `models` is passed as --models (ids in
 * models/family.json's order, which is how the builder names the bundle: +id+id).
 */
export async function buildBundle(outDir: string, version: string, logFile: string, options: { models?: string } = {}): Promise<BuiltBundle> {
  const name = `atomic-${version}-linux-x64${options.models ? `+${options.models.split(",").join("+")}` : ""}`;
  const tarball = join(outDir, `${name}.tar.gz`);
  const reportFile = join(outDir, `${name}.report.json`);
  const reuse = process.env.ATOMIC_BUNDLE_REUSE === "1" && existsSync(tarball) && existsSync(reportFile);
  const started = performance.now();
  if (!reuse) {
    const code = await new Promise<number | null>((resolveRun, reject) => {
      const wanted = process.env.ATOMIC_BUNDLE_FROM ?? "HEAD";
      const from = wanted === "worktree" ? [] : ["--from-commit", wanted];
      const models = options.models ? ["--models", options.models] : [];
      const child = spawn(process.execPath, [join(REPO, "deploy", "bundle", "build.mjs"), "--version", version, "--out", outDir, ...from, ...models], {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => chunks.push(c));
      child.once("error", reject);
      child.once("close", (status) => {
        appendFileSync(logFile, Buffer.concat(chunks).toString("utf8"));
        resolveRun(status);
      });
    });
    if (code !== 0) throw new Error(`building ${name} failed (exit ${code}); see ${logFile}`);
  }
  return {
    version,
    name,
    tarball,
    publicKey: join(outDir, `${name}.release.pub.jwk`),
    report: JSON.parse(readFileSync(reportFile, "utf8")) as BuiltBundle["report"],
    buildMs: reuse ? 0 : performance.now() - started,
  };
}
