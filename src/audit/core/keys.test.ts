import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { noteKeyId } from "./checkpoint.js";
import {
  PUBLIC_JWK_FILE,
  SIGNING_KEY_FILE,
  generateSigningKey,
  loadRetiredPublicKeys,
  loadSigningKey,
  publicJwk,
  publicKeyFromJwk,
  rotateSigningKey,
} from "./keys.js";

const root = mkdtempSync(join(tmpdir(), "atomic-keys-"));
let counter = 0;
const freshDir = () => join(root, `k${counter++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("generateSigningKey", () => {
  it("writes a 0600 PKCS#8 PEM and the public JWK beside it", () => {
    const dir = freshDir();
    const key = generateSigningKey(dir, "atomic.example-hospital");
    const pemPath = join(dir, SIGNING_KEY_FILE);
    expect(SIGNING_KEY_FILE).toBe("audit-signing.pem");
    expect(PUBLIC_JWK_FILE).toBe("audit-signing.pub.jwk");
    expect(statSync(pemPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(pemPath, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const jwk = JSON.parse(readFileSync(join(dir, PUBLIC_JWK_FILE), "utf8"));
    expect(jwk).toEqual(publicJwk(key));
    expect(jwk.d).toBeUndefined();
    expect(key.name).toBe("atomic.example-hospital");
    expect(key.privateKey.asymmetricKeyType).toBe("ed25519");
    const signature = sign(null, Buffer.from("x"), key.privateKey);
    expect(verify(null, Buffer.from("x"), key.publicKey, signature)).toBe(true);
  });

  it("refuses to overwrite either file, and writes nothing then", () => {
    const dir = freshDir();
    generateSigningKey(dir, "atomic.a");
    const before = readFileSync(join(dir, SIGNING_KEY_FILE));
    expect(() => generateSigningKey(dir, "atomic.a")).toThrow(/already exists/);
    expect(readFileSync(join(dir, SIGNING_KEY_FILE)).equals(before)).toBe(true);

    const other = freshDir();
    generateSigningKey(other, "atomic.b");
    rmSync(join(other, SIGNING_KEY_FILE));
    expect(() => generateSigningKey(other, "atomic.b")).toThrow(/audit-signing\.pub\.jwk already exists/);
    expect(existsSync(join(other, SIGNING_KEY_FILE))).toBe(false);
  });

  it("refuses a name that cannot be a note key name", () => {
    for (const name of ["", "two words", "a+b", "tab\there"]) {
      const dir = freshDir();
      expect(() => generateSigningKey(dir, name)).toThrow(TypeError);
      expect(existsSync(join(dir, SIGNING_KEY_FILE))).toBe(false);
    }
  });
});

describe("loadSigningKey", () => {
  const dir = freshDir();
  const generated = generateSigningKey(dir, "atomic.load");
  const pemPath = join(dir, SIGNING_KEY_FILE);

  it("loads the key it wrote", () => {
    const loaded = loadSigningKey(pemPath, "atomic.load");
    expect(publicJwk(loaded)).toEqual(publicJwk(generated));
    const signature = sign(null, Buffer.from("y"), loaded.privateKey);
    expect(verify(null, Buffer.from("y"), generated.publicKey, signature)).toBe(true);
  });

  it("refuses a file readable or writable by group or others, saying its mode", () => {
    for (const mode of [0o640, 0o604, 0o660, 0o620, 0o602, 0o644]) {
      chmodSync(pemPath, mode);
      expect(() => loadSigningKey(pemPath, "atomic.load")).toThrow(new RegExp(`mode 0${mode.toString(8)}`));
    }
    chmodSync(pemPath, 0o400);
    expect(loadSigningKey(pemPath, "atomic.load").name).toBe("atomic.load");
    chmodSync(pemPath, 0o600);
  });

  it("refuses a key that is not Ed25519, and a bad name", () => {
    const ecPath = join(dir, "ec.pem");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" });
    writeFileSync(ecPath, ec, { mode: 0o600 });
    expect(() => loadSigningKey(ecPath, "atomic.load")).toThrow(/expected Ed25519/);
    expect(() => loadSigningKey(pemPath, "no spaces allowed")).toThrow(TypeError);
    expect(() => loadSigningKey(join(dir, "missing.pem"), "atomic.load")).toThrow(/ENOENT/);
  });
});

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function nonCanonical(x: string): string {
  const last = BASE64URL.indexOf(x.slice(-1));
  const changed = `${x.slice(0, -1)}${BASE64URL[last ^ 1]}`;
  expect(Buffer.from(changed, "base64url").equals(Buffer.from(x, "base64url"))).toBe(true);
  return changed;
}

describe("public JWKs", () => {
  const key = generateSigningKey(freshDir(), "atomic.jwk");
  const jwk = publicJwk(key);

  it("are RFC 8037 OKP keys with the note key name as kid", () => {
    expect(Object.keys(jwk).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: "atomic.jwk", alg: "EdDSA", use: "sig" });
    expect(jwk["x"]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(jwk["x"] as string, "base64url").equals(key.publicKey.export({ format: "der", type: "spki" }).subarray(-32))).toBe(true);
  });

  it("load back as the same key", () => {
    const loaded = publicKeyFromJwk(JSON.parse(JSON.stringify(jwk)));
    expect(loaded.name).toBe("atomic.jwk");
    const signature = sign(null, Buffer.from("z"), key.privateKey);
    expect(verify(null, Buffer.from("z"), loaded.publicKey, signature)).toBe(true);
    // alg and use are optional.
    const { alg: _alg, use: _use, ...bare } = jwk;
    expect(publicKeyFromJwk(bare).name).toBe("atomic.jwk");
  });

  it("refuse private members, wrong types and malformed keys", () => {
    const withD = { ...jwk, d: key.privateKey.export({ format: "jwk" }).d };
    const x = jwk["x"] as string;
    const cases: [unknown, RegExp][] = [
      [withD, /private key/],
      [{ ...jwk, d: "" }, /private key/],
      [null, /not a JWK object/],
      ["jwk", /not a JWK object/],
      [[jwk], /not a JWK object/],
      [{ ...jwk, kty: "EC" }, /kty/],
      [{ ...jwk, crv: "Ed448" }, /crv/],
      [{ ...jwk, crv: "X25519" }, /crv/],
      [{ ...jwk, alg: "ES256" }, /alg/],
      [{ ...jwk, use: "enc" }, /use/],
      [{ ...jwk, x: undefined }, /x is not base64url/],
      [{ ...jwk, x: `${x}=` }, /x is not base64url/],
      [{ ...jwk, x: x.replace(/-/g, "+").replace(/_/g, "/").replace(/^./, "+") }, /x is not base64url/],
      [{ ...jwk, x: x.slice(0, -2) }, /32 bytes/],
      [{ ...jwk, x: `${x}AA` }, /32 bytes/],
      // 43 characters carry 258 bits: flipping an unused low bit of the last one decodes to the same key.
      [{ ...jwk, x: nonCanonical(x) }, /32 bytes/],
      [{ ...jwk, kid: undefined }, /no kid/],
      [{ ...jwk, kid: 7 }, /no kid/],
      [{ ...jwk, kid: "two words" }, /kid/],
    ];
    for (const [value, reason] of cases) expect(() => publicKeyFromJwk(value), JSON.stringify(value)).toThrow(reason);
  });
});

describe("rotateSigningKey", () => {
  it("retires the key pair under its key id (0600 PEM in a 0700 folder) and generates a new one in place", () => {
    const dir = freshDir();
    const first = generateSigningKey(dir, "atomic.rotate");
    const { previous, next } = rotateSigningKey(dir, "atomic.rotate");
    expect(publicJwk(previous)).toEqual(publicJwk(first));
    expect(next.name).toBe("atomic.rotate");
    expect(publicJwk(next)["x"]).not.toBe(publicJwk(first)["x"]);
    expect(noteKeyId(next.name, next.publicKey).equals(noteKeyId(first.name, first.publicKey))).toBe(false);

    const stem = join(dir, "retired", `audit-signing-${noteKeyId(first.name, first.publicKey).toString("hex")}`);
    expect(statSync(join(dir, "retired")).mode & 0o777).toBe(0o700);
    expect(statSync(`${stem}.pem`).mode & 0o777).toBe(0o600);
    expect(publicJwk(loadSigningKey(`${stem}.pem`, "atomic.rotate"))).toEqual(publicJwk(first));
    expect(JSON.parse(readFileSync(`${stem}.pub.jwk`, "utf8"))).toEqual(publicJwk(first));
    expect(publicJwk(loadSigningKey(join(dir, SIGNING_KEY_FILE), "atomic.rotate"))).toEqual(publicJwk(next));
    expect(JSON.parse(readFileSync(join(dir, PUBLIC_JWK_FILE), "utf8"))).toEqual(publicJwk(next));
  });

  it("keeps every retired key across rotations, for the exporter", () => {
    const dir = freshDir();
    expect(loadRetiredPublicKeys(dir, "atomic.retired")).toEqual([]);
    const first = generateSigningKey(dir, "atomic.retired");
    const second = rotateSigningKey(dir, "atomic.retired").next;
    rotateSigningKey(dir, "atomic.retired");
    const retired = loadRetiredPublicKeys(dir, "atomic.retired");
    const xs = (keys: { publicKey: KeyObject }[]) => keys.map((key) => key.publicKey.export({ format: "jwk" }).x).sort();
    expect(xs(retired)).toEqual(xs([first, second]));
    expect(retired.every((key) => key.name === "atomic.retired")).toBe(true);
    expect(() => loadRetiredPublicKeys(dir, "atomic.other")).toThrow(/not "atomic.other"/);
  });

  it("refuses when there is no key to rotate, and writes nothing", () => {
    const dir = freshDir();
    expect(() => rotateSigningKey(dir, "atomic.none")).toThrow(/no signing key to rotate/);
    expect(existsSync(dir)).toBe(false);
  });
});
