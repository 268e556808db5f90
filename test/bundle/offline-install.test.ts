/**
 * The offline bundle, end to end (issue 7). Slow (builds two bundles): run with `npx vitest run --config
 * vitest.bundle.config.ts`, as root (network namespaces, useradd), on a machine that can reach the package
 * registries for the build. Everything after the build runs in a network namespace with loopback only.
 * The first bundle carries the family's instruct model (--models), the second none, as bundles are by default.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestModel } from "../../src/models/test-model.js";
import { REPO, buildBundle, type BuiltBundle } from "./support/bundles.js";
import { prepareEtc, runInNamespace, summariseTrace, type TraceSummary } from "./support/namespace.js";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
const OUT = join(REPO, "dist", "bundle-test");
const VERSIONS = [`${pkg.version}-smoke.1`, `${pkg.version}-smoke.2`];
/** The smallest real chat model of the family: enough for a real answer, without 300 MB more to build and hash. */
const CARRIED_ID = "smollm2-135m-instruct";
const pins = JSON.parse(readFileSync(join(REPO, "models", "family.json"), "utf8")) as {
  models: { id: string; file: string; sha256: string; licence: { files: { as: string }[] } }[];
};
const CARRIED = pins.models.find((m) => m.id === CARRIED_ID)!;
/** The carried model's size as the builder reports it (its pinned GGUF), which the size target adds to 400 MB. */
const CARRIED_BYTES = (): number => bundles[0]!.report.models.reduce((sum, m) => sum + m.sizeBytes, 0);
const BUILDS = [{ version: VERSIONS[0]!, models: CARRIED_ID }, { version: VERSIONS[1]! }];
const MiB = 1024 * 1024;
/**
 * Only under vitest.bundle.config.ts (which sets it): the main suite's include pattern also matches this file, and
 * eight minutes of builds and installs have no place in `npm test`.
 */
const enabled = process.env.ATOMIC_BUNDLE_TESTS === "1";

let work: string;
let bundles: BuiltBundle[];
const timings: Record<string, number> = {};

function log(line: string): void {
  process.stdout.write(`[bundle] ${line}\n`);
}

beforeAll(async () => {
  if (!enabled) return;
  if (process.getuid?.() !== 0) throw new Error("the offline-install test needs root (network namespaces, useradd in a private /etc)");
  mkdirSync(OUT, { recursive: true });
  // The service account must be able to reach the prefix: mkdtemp makes 0700.
  work = mkdtempSync(join(tmpdir(), "atomic-offline-"));
  chmodSync(work, 0o755);
  bundles = [];
  for (const { version, models } of BUILDS) {
    const bundle = await buildBundle(OUT, version, join(work, "build.log"), { models });
    timings[`build ${version}`] = bundle.buildMs;
    log(`built ${bundle.name}: ${(bundle.report.compressedBytes / MiB).toFixed(1)} MiB in ${(bundle.buildMs / 1000).toFixed(0)} s`);
    bundles.push(bundle);
  }
}, 30 * 60_000);

afterAll(() => {
  if (!enabled) return;
  log(`timings: ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(", ")}`);
  if (work && process.env.ATOMIC_BUNDLE_KEEP !== "1") rmSync(work, { recursive: true, force: true });
  else if (work) log(`kept ${work}`);
});

function tarList(tarball: string): string[] {
  const result = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8", maxBuffer: 256 * MiB });
  expect(result.status).toBe(0);
  return result.stdout.split("\n").filter(Boolean);
}

function tarFile(tarball: string, path: string): string {
  return spawnSync("tar", ["-xzOf", tarball, path], { encoding: "utf8", maxBuffer: 64 * MiB }).stdout;
}

describe.skipIf(!enabled)("the bundle", () => {
  it("holds what the appliance runs, CPU-only within 400 MB installed (models on top), with SBOM, checksums and signature", () => {
    const bundle = bundles[0]!;
    const top = `${bundle.name}/`;
    expect(bundle.name).toBe(`atomic-${VERSIONS[0]}-linux-x64+${CARRIED_ID}`);
    const entries = new Set(tarList(bundle.tarball));
    for (const path of [
      "install", "INSTALL.md", "BUNDLE.json", "SHA256SUMS", "SHA256SUMS.sig", "bundle-files.json", "sbom.cdx.json", "release.pub.jwk",
      "node/bin/node", "postgres/bin/postgres", "postgres/bin/initdb",
      "app/package.json", "app/dist/cli/main.js", "app/dist/orchestration/workflow-bundle.js", "app/dist/store/postgres/migrations/0001_init.sql",
      "app/policies/default.cedar", "app/policies/entities.json", "app/models/manifest.json", "app/audit/verify.mjs",
      "app/node_modules/@node-llama-cpp/linux-x64/package.json",
      "systemd/atomic-gateway.service.in", "systemd/atomic-worker.service.in", "systemd/atomic-temporal.service.in", "systemd/atomic-postgres.service.in",
      "installer/install.mjs", "installer/bundle-integrity.mjs",
      "models/manifest.json", `models/${CARRIED.file}`, ...CARRIED.licence.files.map((f) => `models/licences/${CARRIED_ID}/${f.as}`),
    ]) {
      expect(entries.has(`${top}${path}`), path).toBe(true);
    }
    const all = [...entries];
    // The SDKs for the site's developers: the npm package, the wheel with its dependencies' wheels, the Go module.
    for (const sdk of [/^sdk\/typescript\/atomic-sdk-[^/]+\.tgz$/, /^sdk\/python\/atomic_sdk-[^/]+\.whl$/, /^sdk\/python\/wheels\/cryptography-[^/]+\.whl$/, /^sdk\/go\/atomic\.local\/sdk\/@v\/v[^/]+\.zip$/]) {
      expect(all.some((e) => sdk.test(e.slice(top.length))), String(sdk)).toBe(true);
    }
    // Exactly the model asked for, where the installed gateway finds it.
    expect(all.filter((e) => /\.gguf$/i.test(e))).toEqual([`${top}models/${CARRIED.file}`]);
    // Pruned: other llama.cpp builds, development dependencies, the workflow bundler, what Node.js never loads.
    for (const absent of [
      "@node-llama-cpp/linux-x64-cuda/", "@node-llama-cpp/linux-x64-vulkan/", "@node-llama-cpp/linux-arm64/", "node_modules/vitest/", "node_modules/tsx/", "node_modules/esbuild/",
      "node_modules/@cyclonedx/", "node_modules/fast-check/", "node_modules/typescript/", "node_modules/@swc/", "node_modules/webpack/lib/webpack.js",
    ]) {
      expect(all.filter((e) => e.includes(absent)), absent).toEqual([]);
    }
    expect(all.filter((e) => e.includes("/node_modules/") && /\.(d\.[cm]?ts|map)$/.test(e)).slice(0, 5)).toEqual([]);
    // One Temporal: the production server and its SQL tool, or the dev server's CLI.
    const temporalFiles = all.filter((e) => e.startsWith(`${top}temporal/bin/`) && !e.endsWith("/")).map((e) => e.slice(top.length)).sort();
    expect(temporalFiles).toEqual(bundle.report.temporalServer ? ["temporal/bin/temporal-server", "temporal/bin/temporal-sql-tool"] : ["temporal/bin/temporal"]);
    // Installed size: 400 MB for the code, the carried model on top.
    expect(bundle.report.sizeTargetBytes).toBe(400e6 + CARRIED_BYTES());
    expect(bundle.report.installedBytes).toBeLessThanOrEqual(bundle.report.sizeTargetBytes!);
    // The site's own manifest starts empty; the carried model is pinned in the release's, by the pinned digest.
    const manifest = JSON.parse(tarFile(bundle.tarball, `${top}app/models/manifest.json`)) as { models: unknown[] };
    expect(manifest.models).toEqual([]);
    const carried = JSON.parse(tarFile(bundle.tarball, `${top}models/manifest.json`)) as { models: { id: string; file: string; sha256: string }[] };
    expect(carried.models.map((m) => ({ id: m.id, file: m.file, sha256: m.sha256 }))).toEqual([{ id: CARRIED_ID, file: CARRIED.file, sha256: CARRIED.sha256 }]);
    const sums = tarFile(bundle.tarball, `${top}SHA256SUMS`);
    expect(sums).toContain(`${CARRIED.sha256}  models/${CARRIED.file}\n`);
    const sbom = JSON.parse(tarFile(bundle.tarball, `${top}sbom.cdx.json`)) as { bomFormat: string; components: { name: string; type: string; hashes?: { content: string }[] }[] };
    expect(sbom.bomFormat).toBe("CycloneDX");
    const names = JSON.stringify(sbom.components.map((c) => c.name));
    for (const name of ["node-llama-cpp", "pg", "hono", "node", "postgresql", bundle.report.temporalServer ? "temporal-server" : "temporal-cli"]) expect(names).toContain(`"${name}"`);
    const model = sbom.components.find((c) => c.type === "machine-learning-model");
    expect(model?.name).toBe(CARRIED_ID);
    expect(model?.hashes?.[0]?.content).toBe(CARRIED.sha256);
    expect(names).not.toContain('"vitest"');
    if (bundle.report.temporalServer) {
      for (const path of ["temporal/bin/temporal-server", "temporal/bin/temporal-sql-tool", "app/deploy/temporal/up.mjs", "app/deploy/temporal/config/temporal-server.yaml"]) {
        expect(entries.has(`${top}${path}`), path).toBe(true);
      }
    }
    const info = JSON.parse(tarFile(bundle.tarball, `${top}BUNDLE.json`)) as { version: string; llama: { builds: string[] }; models: { id: string; sha256: string }[] };
    expect(info.version).toBe(VERSIONS[0]);
    expect(info.llama.builds).toEqual(["cpu"]);
    expect(info.models.map((m) => [m.id, m.sha256])).toEqual([[CARRIED_ID, CARRIED.sha256]]);
    expect(bundle.report.models.map((m) => m.id)).toEqual([CARRIED_ID]);
    log(`size with ${CARRIED_ID}: ${(bundle.report.compressedBytes / MiB).toFixed(1)} MiB compressed, ${(bundle.report.installedBytes / MiB).toFixed(1)} MiB installed; Temporal server included: ${bundle.report.temporalServer}`);
  });

  it("carries no model when built without --models: an empty manifest for the site's own, nothing else", () => {
    const bundle = bundles[1]!;
    const top = `${bundle.name}/`;
    expect(bundle.name).toBe(`atomic-${VERSIONS[1]}-linux-x64`);
    const all = tarList(bundle.tarball);
    expect(all.filter((e) => /\.gguf$/i.test(e) || e.startsWith(`${top}models/`))).toEqual([]);
    expect((JSON.parse(tarFile(bundle.tarball, `${top}app/models/manifest.json`)) as { models: unknown[] }).models).toEqual([]);
    expect((JSON.parse(tarFile(bundle.tarball, `${top}BUNDLE.json`)) as { models: unknown[] }).models).toEqual([]);
    expect(bundle.report.sizeTargetBytes).toBe(400e6);
    expect(bundle.report.installedBytes).toBeLessThanOrEqual(400e6);
    log(`size without models: ${(bundle.report.compressedBytes / MiB).toFixed(1)} MiB compressed, ${(bundle.report.installedBytes / MiB).toFixed(1)} MiB installed`);
  });
});

// ---------------------------------------------------------------- tampering

interface TamperCase {
  name: string;
  /** Changes the copy; returns the installer's extra arguments when the case is about them. */
  mutate(dir: string, keys: { other: string; otherFingerprint: string }): string[] | void;
  /** What stderr must say (naming the file). */
  expect: RegExp;
  exit: number;
}

/** Writes a new file in place of a hard link, so that the original bundle stays untouched. */
function rewrite(file: string, change: (bytes: Buffer) => void): void {
  const mode = statSync(file).mode & 0o777;
  const bytes = readFileSync(file);
  change(bytes);
  unlinkSync(file);
  writeFileSync(file, bytes, { mode });
}

function flipAt(file: string, position: (length: number) => number): void {
  rewrite(file, (bytes) => {
    const at = position(bytes.length);
    bytes[at] = bytes[at]! ^ 0x01;
  });
}

/** A small seeded generator: the "random" files are the same on every run, and named in the test's output. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe.skipIf(!enabled)("a tampered bundle", () => {
  let base: string;
  let etc: string;
  const otherKey = generateKeyPairSync("ed25519");
  let otherKeyFile: string;
  let otherFingerprint: string;

  beforeAll(() => {
    const dir = join(work, "tamper");
    mkdirSync(dir, { recursive: true });
    spawnSync("tar", ["-xzf", bundles[0]!.tarball, "-C", dir], { stdio: "ignore" });
    base = join(dir, bundles[0]!.name);
    etc = prepareEtc(join(work, "tamper-etc"));
    otherKeyFile = join(dir, "other.pub.jwk");
    writeFileSync(otherKeyFile, JSON.stringify(otherKey.publicKey.export({ format: "jwk" })));
    const fp = spawnSync(join(base, "install"), ["fingerprint", otherKeyFile], { encoding: "utf8" }).stdout.trim();
    otherFingerprint = fp.replace(/ /g, "").replace(/^sha256:/, "");
  });

  const sums = () => readFileSync(join(base, "SHA256SUMS"), "utf8").trim().split("\n").map((l) => l.slice(66));

  const cases: TamperCase[] = [
    { name: "one byte of the compiled gateway", mutate: (d) => flipAt(join(d, "app/dist/cli/main.js"), (n) => Math.floor(n / 2)), expect: /refused: app\/dist\/cli\/main\.js: SHA-256/, exit: 3 },
    { name: "one byte of a dependency", mutate: (d) => flipAt(join(d, "app/node_modules/pg/lib/client.js"), (n) => n - 10), expect: /refused: app\/node_modules\/pg\/lib\/client\.js: SHA-256/, exit: 3 },
    { name: "one byte of a PostgreSQL library", mutate: (d) => flipAt(join(d, "postgres/lib/libz.so.1"), (n) => 1000 % n), expect: /refused: postgres\/lib\/libz\.so\.1: SHA-256/, exit: 3 },
    {
      name: "the last byte of the Temporal binary",
      // The production server, or the dev server's CLI: whichever the bundle carries.
      mutate: (d) => flipAt(join(d, existsSync(join(d, "temporal/bin/temporal-server")) ? "temporal/bin/temporal-server" : "temporal/bin/temporal"), (n) => n - 1),
      expect: /refused: temporal\/bin\/temporal(-server)?: SHA-256/, exit: 3,
    },
    { name: "the last byte of the Node.js binary that runs the installer", mutate: (d) => flipAt(join(d, "node/bin/node"), (n) => n - 1), expect: /refused: node\/bin\/node: SHA-256/, exit: 3 },
    {
      name: "a comment in the installer itself",
      mutate: (d) => rewrite(join(d, "installer/install.mjs"), (b) => { const at = b.indexOf("operator's guide"); b[at] = "O".charCodeAt(0); }),
      expect: /refused: installer\/install\.mjs: SHA-256/, exit: 3,
    },
    {
      name: "a checksum in SHA256SUMS",
      mutate: (d) => rewrite(join(d, "SHA256SUMS"), (b) => { b[0] = b[0] === 0x30 ? 0x31 : 0x30; }),
      expect: /refused: SHA256SUMS\.sig: not a valid signature of SHA256SUMS by the release key \(it names the trusted key but does not verify/, exit: 3,
    },
    {
      name: "a signature by another key",
      mutate: (d) => {
        const sums = readFileSync(join(d, "SHA256SUMS"));
        const fp = spawnSync(join(d, "install"), ["fingerprint", otherKeyFile], { encoding: "utf8" }).stdout.trim().replace(/ /g, "");
        unlinkSync(join(d, "SHA256SUMS.sig"));
        writeFileSync(join(d, "SHA256SUMS.sig"), `atomic-release-signature v1\nkey ${fp}\n${sign(null, sums, otherKey.privateKey).toString("base64")}\n`);
      },
      expect: /refused: SHA256SUMS\.sig: not a valid signature .* names key sha256:[0-9a-f]{64}, not the trusted/, exit: 3,
    },
    { name: "the operator's key is not the one that signed", mutate: () => ["--release-key", otherKeyFile], expect: /refused: SHA256SUMS\.sig: not a valid signature .* names key sha256:[0-9a-f]{64}, not the trusted/, exit: 3 },
    { name: "the fingerprint the operator was given does not match the bundle's key", mutate: () => ["--release-key-fingerprint", otherFingerprint], expect: /refused: the bundle's release key has fingerprint .* not the .* you were given/, exit: 1 },
    { name: "a file added", mutate: (d) => writeFileSync(join(d, "app/node_modules/pg/lib/extra.js"), "process.exit(0)\n"), expect: /refused: app\/node_modules\/pg\/lib\/extra\.js: not in the signed list/, exit: 3 },
    { name: "a file removed", mutate: (d) => unlinkSync(join(d, "app/dist/bootstrap/gateway.js")), expect: /refused: app\/dist\/bootstrap\/gateway\.js: missing/, exit: 3 },
    { name: "a link added", mutate: (d) => symlinkSync("/etc/shadow", join(d, "app/dist/shadow")), expect: /refused: app\/dist\/shadow: a link that the signed list does not hold/, exit: 3 },
    {
      name: "one byte in the middle of the carried model",
      mutate: (d) => flipAt(join(d, "models", CARRIED.file), (n) => Math.floor(n / 2)),
      expect: new RegExp(`refused: models/${escape(CARRIED.file)}: SHA-256`), exit: 3,
    },
    {
      name: "a model file dropped beside the carried one",
      mutate: (d) => writeFileSync(join(d, "models", "extra.gguf"), "GGUF"),
      expect: /refused: models\/extra\.gguf: not in the signed list/, exit: 3,
    },
  ];

  it.each(cases)("is refused, naming what failed: $name", async (tamper) => {
    const dir = join(work, "tamper", `case-${cases.indexOf(tamper)}`);
    expect(spawnSync("cp", ["-al", base, dir]).status).toBe(0);
    const extra = tamper.mutate(dir, { other: otherKeyFile, otherFingerprint }) ?? [];
    const args = extra.length > 0 && extra[0]!.startsWith("--release-key") ? extra : ["--release-key", bundles[0]!.publicKey, ...extra];
    const prefix = join(work, "tamper-prefix");
    const run = await runInNamespace([join(dir, "install"), ...args, "--prefix", prefix, "--systemd-dir", join(work, "tamper-systemd"), "--no-systemctl"], { etc, timeoutMs: 120_000 });
    timings[`tamper: ${tamper.name}`] = run.ms;
    expect(run.output).toMatch(tamper.expect);
    expect(run.code).toBe(tamper.exit);
    // Nothing written: no prefix, no units, no account.
    expect(existsSync(prefix)).toBe(false);
    expect(existsSync(join(work, "tamper-systemd"))).toBe(false);
    expect(readFileSync(join(etc, "passwd"), "utf8")).not.toMatch(/^atomic:/m);
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it("is refused for one changed byte in any of three randomly chosen files", async () => {
    const random = seeded(20261126);
    const candidates = sums().filter((p) => !p.startsWith("installer/") && p !== "node/bin/node");
    for (let i = 0; i < 3; i++) {
      const path = candidates[Math.floor(random() * candidates.length)]!;
      const dir = join(work, "tamper", `random-${i}`);
      expect(spawnSync("cp", ["-al", base, dir]).status).toBe(0);
      const size = lstatSync(join(dir, path)).size;
      const at = Math.floor(random() * size);
      flipAt(join(dir, path), () => at);
      const run = await runInNamespace([join(dir, "install"), "--release-key", bundles[0]!.publicKey, "--prefix", join(work, "tamper-prefix"), "--no-systemctl"], { etc, timeoutMs: 120_000 });
      log(`random tamper: byte ${at} of ${path} -> exit ${run.code}`);
      expect(run.output).toMatch(new RegExp(`refused: ${escape(path)}: SHA-256`));
      expect(run.code).toBe(3);
      expect(existsSync(join(work, "tamper-prefix"))).toBe(false);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it("verifies the untouched bundle (the cases above changed only their copies)", async () => {
    const run = await runInNamespace([join(base, "install"), "verify", "--release-key", bundles[0]!.publicKey], { etc, timeoutMs: 120_000 });
    expect(run.output).toContain(`OK: Atomic ${VERSIONS[0]} (linux-x64) is exactly what the release key signed`);
    expect(run.code).toBe(0);
    expect(readdirSync(join(work, "tamper")).filter((n) => n.startsWith("case-") || n.startsWith("random-"))).toEqual([]);
  }, 180_000);
});

// ---------------------------------------------------------------- install, serve, upgrade, offline

interface ScenarioReport {
  ok: boolean;
  error?: string;
  steps: { name: string; ok: boolean; ms: number; result?: Record<string, unknown>; error?: string }[];
  facts: {
    installed: {
      current: string; temporal: string; signingKeyMode: string; keysDirMode: string; dataDirMode: string; releaseOwner: string; units: string[];
      systemdAnalyze: { status: number; output: string };
      family: { prefix: string; configured: string; carried: string[]; modelOwner: string; licences: string[] };
    };
    upgraded: {
      current: string; previous: string; keysKept: boolean; manifestKept: boolean; configKept: boolean; adminKeyKept: boolean; backups: string[]; history: string[];
      family: { carried: string[]; sameFileAsPrevious: boolean; licences: string[] };
    };
  };
}

describe.skipIf(!enabled)("installed offline (network namespace with loopback only, under strace)", () => {
  let report: ScenarioReport;
  let trace: TraceSummary;
  let scenarioMs: number;

  beforeAll(async () => {
    const carryIn = join(work, "carry-in");
    mkdirSync(carryIn, { recursive: true });
    // The model comes separately from the bundle, as on site: a generated random-weight GGUF.
    writeFileSync(join(carryIn, "tiny-chat.gguf"), buildTestModel({ seed: 7, name: "tiny-chat" }));
    // The operator receives the release key apart from the tarball.
    const releaseKey = join(work, "release.pub.jwk");
    writeFileSync(releaseKey, readFileSync(bundles[0]!.publicKey));
    const scenarioWork = join(work, "site");
    mkdirSync(scenarioWork, { recursive: true, mode: 0o755 });
    chmodSync(scenarioWork, 0o755);
    const plan = {
      work: scenarioWork,
      releaseKey,
      gguf: join(carryIn, "tiny-chat.gguf"),
      family: { id: CARRIED_ID, file: CARRIED.file, licences: CARRIED.licence.files.map((f) => f.as) },
      report: join(work, "scenario-report.json"),
      bundles: bundles.map((b) => ({ version: b.version, tarball: b.tarball })),
    };
    writeFileSync(join(work, "plan.json"), JSON.stringify(plan));
    const straceFile = join(work, "strace.txt");
    const run = await runInNamespace([process.execPath, join(REPO, "test", "bundle", "support", "scenario.mjs"), join(work, "plan.json")], {
      etc: prepareEtc(join(work, "site-etc")),
      straceFile,
      logFile: join(work, "scenario.log"),
      timeoutMs: 25 * 60_000,
    });
    scenarioMs = run.ms;
    timings["install + serve + upgrade + rollback (namespace, strace)"] = run.ms;
    log(`scenario exit ${run.code} in ${(run.ms / 1000).toFixed(1)} s; output in ${join(work, "scenario.log")}`);
    report = JSON.parse(readFileSync(plan.report, "utf8")) as ScenarioReport;
    for (const step of report.steps) log(`  ${step.ok ? "ok    " : "FAILED"} ${(step.ms / 1000).toFixed(1).padStart(6)} s  ${step.name}`);
    if (!report.ok) log(`scenario failed: ${report.error}\n${run.output.slice(-6000)}`);
    trace = summariseTrace(readFileSync(straceFile, "utf8"));
    log(`strace: ${trace.lines} traced calls; with an address, by family: ${JSON.stringify(trace.byFamily)}`);
  }, 30 * 60_000);

  const stepNamed = (prefix: string) => report.steps.find((s) => s.name.startsWith(prefix));

  it("runs every step of the operator's scenario", () => {
    expect(report.error ?? "").toBe("");
    expect(report.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.error}`)).toEqual([]);
    expect(report.ok).toBe(true);
    log(`scenario took ${(scenarioMs / 1000).toFixed(1)} s`);
  });

  it("installs with a dedicated account, root-owned code, private keys and data, and units systemd accepts", () => {
    const facts = report.facts.installed;
    expect(facts.current).toBe(`releases/${VERSIONS[0]}`);
    expect(facts.signingKeyMode).toBe("600 atomic");
    expect(facts.keysDirMode).toBe("700 atomic");
    expect(facts.dataDirMode).toBe("700 atomic");
    expect(facts.releaseOwner).toBe("644 root");
    expect(facts.units).toEqual(["atomic-gateway.service", "atomic-postgres.service", "atomic-temporal.service", "atomic-worker.service", "atomic.target"]);
    expect(facts.systemdAnalyze.status, facts.systemdAnalyze.output).toBe(0);
    // With the production server in the bundle, all-in-one runs it on the bundle's PostgreSQL, not the dev server.
    expect(facts.temporal).toBe(bundles[0]!.report.temporalServer ? "server" : "dev");
    if (facts.temporal === "server") expect(String(stepNamed("worker and Temporal stay up")?.result?.temporal)).toMatch(/"event":"ready"/);
  });

  it("puts the carried model and its licence in the release, and the configuration names it through current", () => {
    const family = report.facts.installed.family;
    expect(family.configured).toBe(join(family.prefix, "current", "models", "manifest.json"));
    expect(family.carried).toEqual([CARRIED_ID]);
    expect(family.modelOwner).toBe("644 root");
    expect(family.licences).toEqual(CARRIED.licence.files.map((f) => f.as));
  });

  it("answers a real question on the model the bundle carried: the capital of France is Paris", () => {
    const answer = stepNamed(`a real question to ${CARRIED_ID} on ${VERSIONS[0]}`)!;
    expect(answer.ok, answer.error).toBe(true);
    expect(answer.result?.modelDigest).toBe(CARRIED.sha256);
    expect(String(answer.result?.content)).toMatch(/\bParis\b/);
    log(`${CARRIED_ID} answered: ${JSON.stringify(answer.result?.content)}`);
  });

  it("answers a chat completion on a model carried in and pinned on site", () => {
    const chat = stepNamed(`chat completion on ${VERSIONS[0]}`)!;
    expect(chat.ok).toBe(true);
    expect(chat.result?.executionId).toMatch(/\S+/);
    const pinned = stepNamed("carry in a model")!;
    expect(chat.result?.modelDigest ?? pinned.result?.sha256).toBe(pinned.result?.sha256);
  });

  it("exports the audit log and verifies it offline", () => {
    const exported = stepNamed("export the audit log")!;
    expect(exported.ok).toBe(true);
    expect(String(exported.result?.verdict)).toMatch(/^OK: origin smoke\.test\/atomic\/audit, entries \[0, \d+\)/);
  });

  it("upgrades in place: data, keys, configuration and the audit log kept, previous release kept for rollback", () => {
    const facts = report.facts.upgraded;
    expect(facts.current).toBe(`releases/${VERSIONS[1]}`);
    expect(facts.previous).toBe(`releases/${VERSIONS[0]}`);
    expect(facts.keysKept).toBe(true);
    expect(facts.manifestKept).toBe(true);
    expect(facts.configKept).toBe(true);
    expect(facts.adminKeyKept).toBe(true);
    expect(facts.backups.some((b) => b.startsWith(`postgres-${VERSIONS[0]}-before-${VERSIONS[1]}-`))).toBe(true);
    const after = stepNamed("export the whole audit log")!;
    expect(after.ok).toBe(true);
    expect(String(after.result?.verdict)).toMatch(/^OK: .*entries \[0, \d+\).*extends size \d+ .*checked against the previous checkpoint/);
    expect(stepNamed(`chat completion on ${VERSIONS[1]}`)?.ok).toBe(true);
  });

  it("keeps the carried model over an upgrade to a bundle without models (the same file, linked), and still answers", () => {
    const family = report.facts.upgraded.family;
    expect(family.carried).toEqual([CARRIED_ID]);
    expect(family.sameFileAsPrevious).toBe(true);
    expect(family.licences).toEqual(CARRIED.licence.files.map((f) => f.as));
    expect(String(stepNamed(`a real question to ${CARRIED_ID} on ${VERSIONS[1]}`)?.result?.content)).toMatch(/\bParis\b/);
  });

  it("rolls back to the previous release, which serves again", () => {
    const rollback = stepNamed("roll back")!;
    expect(rollback.result?.current).toBe(`releases/${VERSIONS[0]}`);
    expect(rollback.result?.previous).toBe(`releases/${VERSIONS[1]}`);
    const again = stepNamed(`${VERSIONS[0]} serves again`)!;
    expect(again.ok).toBe(true);
    expect(String((again.result?.family as { content?: string } | undefined)?.content)).toMatch(/\bParis\b/);
  });

  it("attempted no connection to any address but loopback (strace of every process)", () => {
    expect(trace.outside).toEqual([]);
    // The trace saw the traffic it should have: loopback TCP (HTTP, Temporal) and unix sockets (PostgreSQL).
    expect(trace.byFamily["AF_INET loopback"] ?? 0).toBeGreaterThan(0);
    expect(trace.byFamily["AF_UNIX"] ?? 0).toBeGreaterThan(0);
  });
});
