/**
 * What makes a bundle trustworthy, shared by the builder (which signs) and the installer (which checks, with the
 * bundled Node.js and node:crypto only):
 *
 *   SHA256SUMS       one line per regular file, "<sha256 hex>  <path>", sorted; `sha256sum -c SHA256SUMS` reads it
 *   SHA256SUMS.sig   an Ed25519 signature over the exact bytes of SHA256SUMS, made with the release key
 *   bundle-files.json  (listed in SHA256SUMS) the symbolic links and which files are executable: what a checksum
 *                    cannot say about a file, so that nobody can add a link or an exec bit unsigned
 *
 * The signature is over SHA256SUMS itself rather than a digest of it, so that an operator can check a bundle with
 * stock tools too: `openssl pkeyutl -verify -pubin -inkey release.pub.pem -rawin -in SHA256SUMS -sigfile sig.bin`.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { createReadStream, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { posix } from "node:path";

export const SUMS_FILE = "SHA256SUMS";
export const SIGNATURE_FILE = "SHA256SUMS.sig";
export const FILES_META = "bundle-files.json";
const SIGNATURE_HEADER = "atomic-release-signature v1";

/** Files that are the signature's subject or the signature itself, so they cannot be in the list. */
const UNLISTED = new Set([SUMS_FILE, SIGNATURE_FILE]);

// ---------------------------------------------------------------- keys

/** A public key from a JWK (OKP/Ed25519) or PEM (SPKI) file's text. Anything else is refused by name. */
export function parsePublicKey(text, source = "release key") {
  let key;
  try {
    const trimmed = text.trim();
    key = trimmed.startsWith("{") ? createPublicKey({ key: JSON.parse(trimmed), format: "jwk" }) : createPublicKey(trimmed);
  } catch (error) {
    throw new Error(`${source} is not a public key (a JWK or a PEM public key): ${error.message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${source} is a ${key.asymmetricKeyType} key; releases are signed with Ed25519`);
  return key;
}

export function parsePrivateKey(text, source = "release signing key") {
  let key;
  try {
    key = createPrivateKey(text);
  } catch (error) {
    throw new Error(`${source} is not a PEM private key: ${error.message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${source} is a ${key.asymmetricKeyType} key; releases are signed with Ed25519`);
  return key;
}

export function generateReleaseKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ format: "pem", type: "pkcs8" }),
    publicJwk: publicKey.export({ format: "jwk" }),
    publicPem: publicKey.export({ format: "pem", type: "spki" }),
  };
}

/**
 * SHA-256 of the raw 32-byte public key, in hex. Short enough to read out over a telephone line, which is how an
 * operator may receive it: the key inside a bundle proves nothing by itself.
 */
export function fingerprintOf(publicKey) {
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}

/** Accepts what a person may type: any case, with or without the prefix, spaces or colons between groups. */
export function normaliseFingerprint(text) {
  const hex = String(text).trim().toLowerCase().replace(/^sha256:/, "").replace(/[\s:]/g, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a release key fingerprint (64 hex digits, optionally after "sha256:"): ${text}`);
  return `sha256:${hex}`;
}

/** For reading aloud: groups of four. */
export function displayFingerprint(fingerprint) {
  return `sha256:${fingerprint.replace(/^sha256:/, "").match(/.{4}/g).join(" ")}`;
}

// ---------------------------------------------------------------- paths

/**
 * Paths in the list are plain relative paths: printable ASCII without backslash (sha256sum would escape it), no
 * empty, "." or ".." segment, so that no entry can name a file outside the bundle or outside the install.
 */
export function checkRelativePath(path) {
  if (typeof path !== "string" || path.length === 0 || path.length > 4096) return "empty or too long";
  if (!/^[\x20-\x5b\x5d-\x7e]+$/.test(path)) return "has a character outside printable ASCII, or a backslash";
  if (path.startsWith("/")) return "is absolute";
  for (const segment of path.split("/")) {
    if (segment === "" || segment === "." || segment === "..") return `has a "${segment}" segment`;
  }
  return null;
}

// ---------------------------------------------------------------- hashing

/** Small files in one read (most of a bundle is thousands of them); large ones streamed. */
export async function sha256OfFile(path, size) {
  if (size !== undefined && size < 8 * 1024 * 1024) return createHash("sha256").update(await readFile(path)).digest("hex");
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Every entry under root, depth first, sorted so that lists come out in one order everywhere. */
export function walk(root) {
  const out = [];
  const visit = (relative) => {
    const names = readdirSync(relative === "" ? root : posix.join(root, relative)).sort();
    for (const name of names) {
      const path = relative === "" ? name : `${relative}/${name}`;
      const stat = lstatSync(posix.join(root, path));
      if (stat.isDirectory()) {
        out.push({ path, type: "dir", stat });
        visit(path);
      } else if (stat.isSymbolicLink()) {
        out.push({ path, type: "symlink", stat, target: readlinkSync(posix.join(root, path)) });
      } else if (stat.isFile()) {
        out.push({ path, type: "file", stat });
      } else {
        out.push({ path, type: "other", stat });
      }
    }
  };
  visit("");
  return out;
}

/** Runs fn over items with at most `limit` at once: hashing a bundle is I/O bound and has one large file or two. */
async function eachLimited(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index], index);
    }
  });
  await Promise.all(workers);
}

// ---------------------------------------------------------------- the list

export function formatSums(entries) {
  return entries.map(({ path, sha256 }) => `${sha256}  ${path}\n`).join("");
}

/** Strict: a list that is not exactly what formatSums writes is refused, rather than interpreted. */
export function parseSums(text) {
  const entries = [];
  const seen = new Set();
  const lines = text.split("\n");
  if (lines.pop() !== "") throw new Error(`${SUMS_FILE} does not end with a newline`);
  lines.forEach((line, index) => {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match) throw new Error(`${SUMS_FILE} line ${index + 1} is not "<sha256>  <path>"`);
    const [, sha256, path] = match;
    const problem = checkRelativePath(path);
    if (problem) throw new Error(`${SUMS_FILE} line ${index + 1}: path ${JSON.stringify(path)} ${problem}`);
    if (seen.has(path)) throw new Error(`${SUMS_FILE} lists ${path} twice`);
    if (UNLISTED.has(path)) throw new Error(`${SUMS_FILE} lists ${path}, which cannot be in it`);
    seen.add(path);
    entries.push({ path, sha256 });
  });
  return entries;
}

export function formatSignature(signature, fingerprint) {
  return `${SIGNATURE_HEADER}\nkey ${fingerprint}\n${signature.toString("base64")}\n`;
}

export function parseSignature(text) {
  const lines = text.split("\n");
  if (lines[0] !== SIGNATURE_HEADER || !/^key sha256:[0-9a-f]{64}$/.test(lines[1] ?? "") || !/^[A-Za-z0-9+/]{86}==$/.test(lines[2] ?? "")) {
    throw new Error(`${SIGNATURE_FILE} is not an ${SIGNATURE_HEADER} file`);
  }
  return { fingerprint: lines[1].slice(4), signature: Buffer.from(lines[2], "base64") };
}

/**
 * Lists, hashes and signs everything under root (the bundle's top folder, staged): writes bundle-files.json,
 * SHA256SUMS and SHA256SUMS.sig. Refuses what the installer would refuse, so a bad bundle fails at build time.
 */
export async function signTree(root, privateKey, { onProgress, write } = {}) {
  const entries = walk(root).filter((e) => !UNLISTED.has(e.path) && e.path !== FILES_META);
  const symlinks = [];
  const executables = [];
  const files = [];
  for (const entry of entries) {
    const problem = checkRelativePath(entry.path);
    if (problem) throw new Error(`cannot sign ${entry.path}: its path ${problem}`);
    if (entry.type === "other") throw new Error(`cannot sign ${entry.path}: not a file, folder or link`);
    if (entry.type === "symlink") symlinks.push({ path: entry.path, target: entry.target });
    if (entry.type === "file") {
      files.push(entry);
      if (entry.stat.mode & 0o111) executables.push(entry.path);
    }
  }
  const meta = `${JSON.stringify({ version: 1, symlinks, executables }, null, 1)}\n`;
  write(FILES_META, meta);
  const known = new Set(files.map((f) => f.path).concat(FILES_META));
  for (const link of symlinks) {
    const problem = checkLink(link, known);
    if (problem) throw new Error(`cannot sign link ${link.path}: ${problem}`);
  }
  const total = files.reduce((sum, f) => sum + f.stat.size, 0);
  let done = 0;
  const hashes = new Map();
  await eachLimited(files, 8, async (file) => {
    hashes.set(file.path, await sha256OfFile(posix.join(root, file.path), file.stat.size));
    done += file.stat.size;
    onProgress?.(done, total);
  });
  hashes.set(FILES_META, createHash("sha256").update(meta).digest("hex"));
  const list = [...hashes.keys()].sort(compareBytes).map((path) => ({ path, sha256: hashes.get(path) }));
  const sums = formatSums(list);
  write(SUMS_FILE, sums);
  const publicKey = createPublicKey(privateKey);
  const fingerprint = fingerprintOf(publicKey);
  write(SIGNATURE_FILE, formatSignature(sign(null, Buffer.from(sums), privateKey), fingerprint));
  return { files: list.length, bytes: total, fingerprint };
}

function compareBytes(a, b) {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A link must stay inside the bundle and end at a listed file: it is an alias, never a way out. */
function checkLink({ path, target }, listedFiles) {
  if (typeof target !== "string" || target.startsWith("/")) return `its target ${target} is absolute`;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved.startsWith("../") || resolved === "..") return `its target ${target} leaves the bundle`;
  if (!listedFiles.has(resolved)) return `its target ${target} is not a listed file`;
  return null;
}

// ---------------------------------------------------------------- verification

/**
 * Checks a bundle folder against the release key, writing nothing: the signature over SHA256SUMS, then every file
 * in it against its checksum, then that nothing else is there (an extra file could be loaded by Node's module
 * resolution without ever being listed). Returns the problems found, each naming its file; an empty list means
 * the folder is exactly what the key's holder signed.
 */
export async function verifyBundle(root, publicKey, { onProgress } = {}) {
  const problems = [];
  const fingerprint = fingerprintOf(publicKey);
  const result = (extra = {}) => ({ ok: problems.length === 0, fingerprint, problems, ...extra });

  let sumsBytes;
  let signature;
  try {
    sumsBytes = readFileSync(posix.join(root, SUMS_FILE));
  } catch (error) {
    problems.push({ path: SUMS_FILE, problem: `cannot be read (${error.code ?? error.message}): this is not a signed bundle` });
    return result();
  }
  try {
    signature = parseSignature(readFileSync(posix.join(root, SIGNATURE_FILE), "utf8"));
  } catch (error) {
    problems.push({ path: SIGNATURE_FILE, problem: error.code ? `cannot be read (${error.code})` : error.message });
    return result();
  }
  if (!verify(null, sumsBytes, publicKey, signature.signature)) {
    const who = signature.fingerprint === fingerprint
      ? "it names the trusted key but does not verify: the list or the signature was changed"
      : `it names key ${signature.fingerprint}, not the trusted ${fingerprint}`;
    problems.push({ path: SIGNATURE_FILE, problem: `not a valid signature of ${SUMS_FILE} by the release key (${who})` });
    return result();
  }

  let listed;
  try {
    listed = parseSums(sumsBytes.toString("utf8"));
  } catch (error) {
    problems.push({ path: SUMS_FILE, problem: error.message });
    return result();
  }
  const expected = new Map(listed.map((e) => [e.path, e.sha256]));

  // The metadata is trusted only once its own checksum matches.
  let meta = { symlinks: [], executables: [] };
  const metaHash = expected.get(FILES_META);
  if (metaHash === undefined) {
    problems.push({ path: FILES_META, problem: `not listed in ${SUMS_FILE}` });
    return result();
  }
  try {
    const metaBytes = readFileSync(posix.join(root, FILES_META));
    if (createHash("sha256").update(metaBytes).digest("hex") !== metaHash) {
      problems.push({ path: FILES_META, problem: "SHA-256 differs from the signed list (changed after signing)" });
      return result();
    }
    meta = JSON.parse(metaBytes.toString("utf8"));
  } catch (error) {
    problems.push({ path: FILES_META, problem: `cannot be read (${error.code ?? error.message})` });
    return result();
  }
  const links = new Map(meta.symlinks.map((l) => [l.path, l.target]));
  const listedFiles = new Set(expected.keys());
  for (const link of meta.symlinks) {
    const problem = checkRelativePath(link.path) ?? checkLink(link, listedFiles);
    if (problem) problems.push({ path: link.path, problem: `signed link refused: ${problem}` });
  }

  // What is actually there.
  let present;
  try {
    present = walk(root);
  } catch (error) {
    problems.push({ path: ".", problem: `cannot be listed (${error.code ?? error.message})` });
    return result();
  }
  const presentByPath = new Map(present.map((e) => [e.path, e]));
  for (const entry of present) {
    if (UNLISTED.has(entry.path) || entry.type === "dir") continue;
    if (entry.type === "symlink") {
      if (!links.has(entry.path)) problems.push({ path: entry.path, problem: "a link that the signed list does not hold" });
      else if (links.get(entry.path) !== entry.target) problems.push({ path: entry.path, problem: `link points at ${entry.target}, signed as ${links.get(entry.path)}` });
      continue;
    }
    if (entry.type === "other") {
      problems.push({ path: entry.path, problem: "not a regular file, folder or link" });
      continue;
    }
    if (!expected.has(entry.path)) problems.push({ path: entry.path, problem: `not in the signed list (a file added after signing)` });
  }
  for (const path of links.keys()) {
    if (presentByPath.get(path)?.type !== "symlink") problems.push({ path, problem: "signed link is missing" });
  }

  const toHash = [];
  for (const [path] of expected) {
    const entry = presentByPath.get(path);
    if (entry === undefined) problems.push({ path, problem: "missing (listed in the signed list)" });
    else if (entry.type !== "file") problems.push({ path, problem: `listed as a file but is a ${entry.type}` });
    else toHash.push(entry);
  }
  const total = toHash.reduce((sum, e) => sum + e.stat.size, 0);
  let done = 0;
  await eachLimited(toHash, 8, async (entry) => {
    let actual;
    try {
      actual = await sha256OfFile(posix.join(root, entry.path), entry.stat.size);
    } catch (error) {
      problems.push({ path: entry.path, problem: `cannot be read (${error.code ?? error.message})` });
      return;
    }
    if (actual !== expected.get(entry.path)) {
      problems.push({ path: entry.path, problem: `SHA-256 ${actual} differs from the signed ${expected.get(entry.path)}` });
    }
    done += entry.stat.size;
    onProgress?.(done, total);
  });
  problems.sort((a, b) => compareBytes(a.path, b.path));
  return result({ files: listed, meta, bytes: total });
}
