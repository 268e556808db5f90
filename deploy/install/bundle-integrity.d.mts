// Types for bundle-integrity.mjs (plain JavaScript so that the installer runs with the bundled node alone).
import type { KeyObject } from "node:crypto";
import type { Stats } from "node:fs";

export declare const SUMS_FILE: "SHA256SUMS";
export declare const SIGNATURE_FILE: "SHA256SUMS.sig";
export declare const FILES_META: "bundle-files.json";

export declare function parsePublicKey(text: string, source?: string): KeyObject;
export declare function parsePrivateKey(text: string, source?: string): KeyObject;
export declare function generateReleaseKey(): { privatePem: string; publicJwk: JsonWebKey; publicPem: string };
export declare function fingerprintOf(publicKey: KeyObject): string;
export declare function normaliseFingerprint(text: string): string;
export declare function displayFingerprint(fingerprint: string): string;
export declare function checkRelativePath(path: string): string | null;
export declare function sha256OfFile(path: string, size?: number): Promise<string>;

export interface WalkEntry {
  path: string;
  type: "dir" | "file" | "symlink" | "other";
  stat: Stats;
  target?: string;
}
export declare function walk(root: string): WalkEntry[];

export interface SumsEntry {
  path: string;
  sha256: string;
}
export declare function formatSums(entries: SumsEntry[]): string;
export declare function parseSums(text: string): SumsEntry[];
export declare function formatSignature(signature: Buffer, fingerprint: string): string;
export declare function parseSignature(text: string): { fingerprint: string; signature: Buffer };

export declare function signTree(
  root: string,
  privateKey: KeyObject,
  options: { onProgress?: (done: number, total: number) => void; write: (file: string, text: string) => void },
): Promise<{ files: number; bytes: number; fingerprint: string }>;

export interface Problem {
  path: string;
  problem: string;
}
export interface Verification {
  ok: boolean;
  fingerprint: string;
  problems: Problem[];
  files?: SumsEntry[];
  meta?: { symlinks: { path: string; target: string }[]; executables: string[] };
  bytes?: number;
}
export declare function verifyBundle(root: string, publicKey: KeyObject, options?: { onProgress?: (done: number, total: number) => void }): Promise<Verification>;
