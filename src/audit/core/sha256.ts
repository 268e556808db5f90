import * as nodeCrypto from "node:crypto";

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: "buffer") => Buffer;

// crypto.hash (Node ≥ 20.12) is a one-shot digest without a Hash object: noticeably faster for the many small
// inputs of a Merkle tree. The verifier bundle may meet an older Node 20, so fall back to createHash.
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;

/** SHA-256 of the bytes, as a 32-byte Buffer. */
export const sha256: (data: Uint8Array) => Buffer =
  typeof oneShot === "function"
    ? (data) => oneShot("sha256", data, "buffer")
    : (data) => nodeCrypto.createHash("sha256").update(data).digest();
