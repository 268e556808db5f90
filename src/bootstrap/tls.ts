import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { ConfigError } from "../config/load.js";
import type { Config } from "../config/schema.js";

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/**
 * The certificate and key of server.tls, read and tried before anything else starts: a file that is missing,
 * unreadable, not PEM, or a key that does not match the certificate stops the start with the key that names it,
 * instead of a gateway that listens and then fails every handshake. Null when TLS is not configured.
 */
export function loadTls(config: Config): TlsMaterial | null {
  const tls = config.server.tls;
  if (tls === undefined) return null;
  const read = (setting: "certFile" | "keyFile", path: string): Buffer => {
    try {
      return readFileSync(resolve(path));
    } catch (error) {
      throw new ConfigError(`server.tls.${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const material = { cert: read("certFile", tls.certFile), key: read("keyFile", tls.keyFile) };
  try {
    createSecureContext(material);
  } catch (error) {
    // OpenSSL's reason ("no start line", "key values mismatch") names the problem without quoting the key.
    throw new ConfigError(`server.tls: ${tls.certFile} and ${tls.keyFile} are not a PEM certificate and its private key: ${(error as Error).message}`);
  }
  return material;
}
