/**
 * The release signing key. A real release passes --release-key with the organisation's key (kept offline, never in
 * the repository). Without one, a development key is generated once into .tools/release-key (git-ignored) and
 * every build signed with it says so loudly: such bundles are for testing.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createPublicKey } from "node:crypto";
import { join, resolve } from "node:path";
import { displayFingerprint, fingerprintOf, generateReleaseKey, parsePrivateKey } from "../install/bundle-integrity.mjs";
import { BuildError } from "./run.mjs";

export const DEV_KEY_FILE = "release-signing.pem";

export function loadReleaseKey(repo, explicitPath) {
  let path = explicitPath ? resolve(explicitPath) : join(repo, ".tools", "release-key", DEV_KEY_FILE);
  const development = !explicitPath;
  let generated = false;
  if (!existsSync(path)) {
    if (!development) throw new BuildError(`--release-key ${path} does not exist`);
    mkdirSync(join(repo, ".tools", "release-key"), { recursive: true, mode: 0o700 });
    const pair = generateReleaseKey();
    writeFileSync(path, pair.privatePem, { mode: 0o600 });
    writeFileSync(join(repo, ".tools", "release-key", "release-signing.pub.jwk"), `${JSON.stringify(pair.publicJwk)}\n`);
    writeFileSync(join(repo, ".tools", "release-key", "release-signing.pub.pem"), pair.publicPem);
    generated = true;
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    if (development) chmodSync(path, 0o600);
    else throw new BuildError(`${path} is readable by others (mode ${mode.toString(8)}); a signing key must be 0600`);
  }
  const privateKey = parsePrivateKey(readFileSync(path, "utf8"), path);
  const publicKey = createPublicKey(privateKey);
  const fingerprint = fingerprintOf(publicKey);
  const warning = development
    ? [
      "!!! DEVELOPMENT RELEASE KEY" + (generated ? " (generated just now)" : ""),
      `!!! ${path}`,
      "!!! Bundles signed with it are for testing only. A release is signed with the organisation's key:",
      "!!!   node deploy/bundle/build.mjs --release-key /path/to/release-signing.pem",
      `!!! fingerprint ${displayFingerprint(fingerprint)}`,
    ].join("\n")
    : null;
  return { privateKey, publicKey, fingerprint, path, development, warning };
}
