/** The log's public key as auditors and webhook receivers get it: the gateway's `<keyDir>/audit-signing.pub.jwk`. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** The raw 32-byte key, base64url. */
  x: string;
  /** The log's signed-note key name. */
  kid: string;
  alg?: "EdDSA";
  use?: "sig";
}

/** The key, or all of the log's keys after a rotation (each signed what was made while it was current). */
export type TrustedKeys = PublicJwk | readonly PublicJwk[];

/** How a key is named out of band (what `atomic keys` and the gateway's start log print), to compare before trusting it. */
export interface KeyIdentity {
  name: string;
  /** The 4-byte signed-note key id, hex: what each checkpoint signature line starts with. */
  keyId: string;
  /** `sha256:` and the hex SHA-256 of the raw public key. */
  fingerprint: string;
}
