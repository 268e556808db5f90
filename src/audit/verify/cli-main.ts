import { open, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { describeKey, type KeyIdentity } from "../core/key-identity.js";
import { verifyConsistencyProof, type ConsistencyProofVerdict } from "./consistency-proof.js";
import { MAX_LEAF_BYTES, MAX_SMALL_FILE_BYTES } from "./export-format.js";
import { jsonShapeProblem } from "./json-shape.js";
import { verifyReceipt, type ReceiptVerdict } from "./receipt.js";
import type { Retirement } from "./key-terms.js";
import { parseRetiredStatement, trustedKeys, type TrustedKey } from "./trusted-keys.js";
import { verifyExport, type VerifyVerdict } from "./verify-export.js";

export const USAGE = [
  "usage: node verify.mjs DIR --key pub.jwk [--key older.jwk ...] [--previous checkpoint-file] [--require-previous] [--retired KEYID@INDEX ...]",
  "       node verify.mjs receipt RECEIPT.json --key pub.jwk [--key older.jwk ...] [--checkpoint checkpoint-file] [--retired KEYID@INDEX ...]",
  "       node verify.mjs consistency PROOF.json --key pub.jwk [--key older.jwk ...] [--previous checkpoint-file] [--require-previous] [--retired KEYID@INDEX ...]",
  "       node verify.mjs key pub.jwk",
  "--retired KEYID@INDEX: the retired key of that id (or sha256: fingerprint) signs no tree of more than INDEX leaves,",
  "INDEX being the index of the key.rotated leaf that retired it; a key given without it, and retired by no leaf verified, is the current key",
].join("\n");

/** Said whenever a run has no --key: the one mistake that turns every check into a check of the forger's own key. */
export const NO_KEY =
  "no --key given: pass the log's public key as you obtained it out of band, after comparing its id and fingerprint " +
  "(node verify.mjs key FILE) with the operator's; never a key taken from the export or receipt you are verifying " +
  "(entry 0 of the log carries the public key, and a forger would put theirs there)";

export interface CliResult {
  /** 0: it verifies; 1: it does not; 2: the command line or its files could not be used. */
  exitCode: 0 | 1 | 2;
  /** One line for stdout (the verdict), or undefined. */
  stdout?: string;
  /** A usage error for stderr, or undefined. */
  stderr?: string;
}

/** What to verify: an export directory (the original usage), a receipt, a consistency proof, or a key's identity. */
export type VerifierCommand =
  | { mode: "export"; path: string; keys: string[]; retired?: string[]; previous?: string; requirePrevious: boolean }
  | { mode: "receipt"; path: string; keys: string[]; retired?: string[]; checkpoint?: string }
  | { mode: "consistency"; path: string; keys: string[]; retired?: string[]; previous?: string; requirePrevious: boolean }
  | { mode: "key"; path: string };

const MODES = ["receipt", "consistency", "key"] as const;
const MODE_FLAGS: Record<VerifierCommand["mode"], readonly string[]> = {
  export: ["key", "retired", "previous", "require-previous"],
  receipt: ["key", "retired", "checkpoint"],
  consistency: ["key", "retired", "previous", "require-previous"],
  key: [],
};

/**
 * Reads the command line. A mode word is only a mode when a file follows it, so that `node verify.mjs DIR --key K`
 * keeps working for a directory of any name. Returns the reason when the line cannot be used.
 */
export function parseVerifierArgs(argv: readonly string[]): { command: VerifierCommand } | { help: true } | { problem: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: "string", multiple: true },
        retired: { type: "string", multiple: true },
        previous: { type: "string" },
        "require-previous": { type: "boolean" },
        checkpoint: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [first, second] = positionals;
  const modeWord = (MODES as readonly string[]).includes(first ?? "") && positionals.length === 2;
  if (first === undefined || positionals.length > (modeWord ? 2 : 1)) return { problem: "give one export directory, or a mode and one file" };
  const mode = modeWord ? (first as (typeof MODES)[number]) : "export";
  const path = modeWord ? (second as string) : first;
  for (const flag of ["key", "retired", "previous", "require-previous", "checkpoint"] as const) {
    if (values[flag] !== undefined && !MODE_FLAGS[mode].includes(flag)) return { problem: `--${flag} does not apply to ${mode === "export" ? "an export" : `the ${mode} mode`}` };
  }
  if (mode === "key") return { command: { mode, path } };
  const keys = values.key ?? [];
  if (keys.length === 0) return { problem: NO_KEY };
  for (const statement of values.retired ?? []) {
    const parsed = parseRetiredStatement(statement);
    if (typeof parsed === "string") return { problem: parsed };
  }
  const retired = values.retired === undefined ? {} : { retired: values.retired };
  if (mode === "receipt") return { command: { mode, path, keys, ...retired, ...(values.checkpoint === undefined ? {} : { checkpoint: values.checkpoint }) } };
  return { command: { mode, path, keys, ...retired, requirePrevious: values["require-previous"] === true, ...(values.previous === undefined ? {} : { previous: values.previous }) } };
}

/** The offline verifier's command line, without touching process: audit/verify.mjs runs it through cli.ts. */
export async function runVerifierCli(argv: readonly string[]): Promise<CliResult> {
  const parsed = parseVerifierArgs(argv);
  if ("help" in parsed) return { exitCode: 0, stdout: USAGE };
  if ("problem" in parsed) return { exitCode: 2, stderr: `${parsed.problem}\n${USAGE}` };
  return runVerifierCommand(parsed.command);
}

/** Runs one parsed command; unreadable files are exit 2 with the reason, verdicts exit 0 or 1. */
export async function runVerifierCommand(command: VerifierCommand): Promise<CliResult> {
  try {
    switch (command.mode) {
      case "key": return keyCommand(await readText(command.path, "the key file", MAX_BYTES.key));
      case "export": return await exportCommand(command);
      case "receipt": return await receiptCommand(command);
      case "consistency": return await consistencyCommand(command);
    }
  } catch (error) {
    if (error instanceof Unreadable) return { exitCode: 2, stderr: error.message };
    throw error;
  }
}

class Unreadable extends Error {}

/**
 * The most each file given can hold, so that no file makes the verifier read more than its 256 MB allow: a key; a
 * checkpoint, as in an export; a receipt, whose leaf (8 MiB) JSON.stringify escapes to at most twice its bytes, with
 * its checkpoint and proof; a consistency proof, two checkpoints and a proof.
 */
const MAX_BYTES = {
  key: 64 * 1024,
  checkpoint: MAX_SMALL_FILE_BYTES,
  receipt: 2 * MAX_LEAF_BYTES + 2 * MAX_SMALL_FILE_BYTES,
  consistency: 3 * MAX_SMALL_FILE_BYTES,
} as const;

/** A receipt or a consistency proof is a flat object with one short array: anything much bigger is no such thing. */
const PROOF_JSON_SHAPE = { nesting: 8, values: 10_000 };

async function readText(path: string, what: string, limit: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new Unreadable(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new Unreadable(`cannot use ${what} ${path}: it is ${size} bytes, more than the ${limit} that any can be`);
    const bytes = await handle.readFile();
    if (bytes.length > limit) throw new Unreadable(`cannot use ${what} ${path}: it grew past ${limit} bytes while being read`);
    return bytes.toString("utf8");
  } catch (error) {
    if (error instanceof Unreadable) throw error;
    throw new Unreadable(`cannot read ${what} ${path}: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

async function readKeys(paths: readonly string[]): Promise<unknown[]> {
  const texts: string[] = [];
  for (const path of paths) texts.push(await readText(path, "the key file", MAX_BYTES.key));
  return texts.map(parseJson);
}

/** undefined when not JSON: each verifier reports it in its own terms (key_invalid, receipt_invalid). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A receipt's or proof's JSON, or why it is too costly to parse (reads after "the receipt"). */
function parseProofJson(text: string): { value: unknown } | { problem: string } {
  const problem = jsonShapeProblem(Buffer.from(text, "utf8"), PROOF_JSON_SHAPE);
  return problem === undefined ? { value: parseJson(text) } : { problem: `${problem}: it is no such JSON` };
}

/** With --require-previous, a run that would not check the log against a checkpoint the auditor kept fails. */
const PREVIOUS_MISSING = "FAILED: previous_missing: --require-previous was given without --previous: nothing would show that the log did not rewrite what you audited before";

async function exportCommand(command: Extract<VerifierCommand, { mode: "export" }>): Promise<CliResult> {
  if (command.requirePrevious && command.previous === undefined) return { exitCode: 1, stdout: PREVIOUS_MISSING };
  const isDirectory = await stat(command.path).then((info) => info.isDirectory(), () => false);
  if (!isDirectory) return { exitCode: 2, stderr: `${command.path} is not a directory\n${USAGE}` };
  const publicKeyJwk = await readKeys(command.keys);
  const previousCheckpoint = command.previous === undefined ? undefined : await readText(command.previous, "the previous checkpoint", MAX_BYTES.checkpoint);
  const verdict = await verifyExport(command.path, { publicKeyJwk, ...retiredOf(command), ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) });
  return { exitCode: verdict.ok ? 0 : 1, stdout: verdictLine(verdict) };
}

async function receiptCommand(command: Extract<VerifierCommand, { mode: "receipt" }>): Promise<CliResult> {
  const publicKeyJwk = await readKeys(command.keys);
  const receipt = parseProofJson(await readText(command.path, "the receipt", MAX_BYTES.receipt));
  if ("problem" in receipt) return { exitCode: 1, stdout: `FAILED: receipt_invalid: the receipt ${oneLine(receipt.problem)}` };
  const heldCheckpoint = command.checkpoint === undefined ? undefined : await readText(command.checkpoint, "the checkpoint", MAX_BYTES.checkpoint);
  const verdict = verifyReceipt(receipt.value, { publicKeyJwk, ...retiredOf(command), ...(heldCheckpoint === undefined ? {} : { heldCheckpoint }) });
  return { exitCode: verdict.ok ? 0 : 1, stdout: receiptVerdictLine(verdict) };
}

async function consistencyCommand(command: Extract<VerifierCommand, { mode: "consistency" }>): Promise<CliResult> {
  if (command.requirePrevious && command.previous === undefined) return { exitCode: 1, stdout: PREVIOUS_MISSING };
  const publicKeyJwk = await readKeys(command.keys);
  const body = parseProofJson(await readText(command.path, "the consistency proof", MAX_BYTES.consistency));
  if ("problem" in body) return { exitCode: 1, stdout: `FAILED: consistency_invalid: the consistency proof ${oneLine(body.problem)}` };
  const previousCheckpoint = command.previous === undefined ? undefined : await readText(command.previous, "the previous checkpoint", MAX_BYTES.checkpoint);
  const verdict = verifyConsistencyProof(body.value, { publicKeyJwk, ...retiredOf(command), ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) });
  return { exitCode: verdict.ok ? 0 : 1, stdout: consistencyVerdictLine(verdict) };
}

const retiredOf = (command: { retired?: string[] }) => (command.retired === undefined ? {} : { retired: command.retired });

/** `key FILE`: the identity of a public JWK, to compare out of band with what the operator reads out. */
function keyCommand(text: string): CliResult {
  try {
    const [key] = trustedKeys(parseJson(text)) as [TrustedKey];
    return { exitCode: 0, stdout: `key ${describeKey(key.identity)}` };
  } catch (error) {
    return { exitCode: 1, stdout: `FAILED: key_invalid: ${oneLine((error as Error).message)}` };
  }
}

const keysUsed = (keys: readonly KeyIdentity[]) => `${keys.length === 1 ? "key" : "keys"} ${keys.map(describeKey).join(", ")}`;

/** What the verified leaves say of the keys given: the bound an auditor passes when verifying without those leaves. */
const retiredWords = (retirements: readonly Retirement[] | undefined) =>
  (retirements ?? []).map(({ key, index }) => `; key ${key.keyId} retired by the key.rotated leaf at index ${index} (later trees without that leaf: --retired ${key.keyId}@${index})`).join("");

/**
 * A reason as one line of plain text: it may quote what the checked files hold, and a line break, a terminal escape
 * or a bidirectional control there could print a verdict of its own (`| grep ^OK:` passing on a FAILED run).
 */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (char) => `\\u${char.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}

/** The one-line verdict of an export: "OK: origin X, entries [from, to), root R; …" or "FAILED at index N: code: reason". */
export function verdictLine(verdict: VerifyVerdict): string {
  if (!verdict.ok) {
    return `FAILED${verdict.index === undefined ? "" : ` at index ${verdict.index}`}: ${verdict.code}: ${oneLine(verdict.reason)}`;
  }
  let line = `OK: origin ${verdict.origin}, entries [${verdict.from}, ${verdict.to}), root ${verdict.root}; ${keysUsed(verdict.keys)}${retiredWords(verdict.retirements)}`;
  const consistency = verdict.consistency;
  if (consistency?.against === "previous-checkpoint") {
    return `${line}; extends size ${consistency.oldSize} (root ${consistency.oldRoot ?? "?"}, checked against the previous checkpoint)`;
  }
  if (consistency?.against === "unchecked") line += `; consistency from size ${consistency.oldSize} NOT checked (give the checkpoint of that size with --previous)`;
  if (consistency?.against === "exported-leaves") line += `; extends size ${consistency.oldSize} (root ${consistency.oldRoot ?? "?"}, checked against the exported leaves)`;
  // Without a checkpoint the auditor kept, a log that rewrote its history and re-signed it verifies all the same.
  line += "; NOT checked against a checkpoint you kept (no --previous): this shows what the log signs now, not that it kept what it signed before";
  return line;
}

export function receiptVerdictLine(verdict: ReceiptVerdict): string {
  if (!verdict.ok) return `FAILED: ${verdict.code}: ${oneLine(verdict.reason)}`;
  const line = `OK: event ${verdict.eventId} (${verdict.kind}) is entry ${verdict.index} of origin ${verdict.origin}, in the tree of ${verdict.treeSize} leaves, root ${verdict.root}; ${keysUsed([verdict.key])}${retiredWords(verdict.retirements)}`;
  return verdict.held
    ? `${line}; the tree of the checkpoint you hold`
    : `${line}; NOT compared with a checkpoint you kept (no --checkpoint): link this tree to your archive with a consistency proof`;
}

export function consistencyVerdictLine(verdict: ConsistencyProofVerdict): string {
  if (!verdict.ok) return `FAILED: ${verdict.code}: ${oneLine(verdict.reason)}`;
  const line = `OK: origin ${verdict.origin}, the tree of ${verdict.newSize} leaves (root ${verdict.newRoot}) extends the tree of ${verdict.oldSize} (root ${verdict.oldRoot}); ${keysUsed(verdict.keys)}`;
  return verdict.held
    ? `${line}; from the checkpoint you hold`
    : `${line}; NOT checked against a checkpoint you kept (no --previous): the old tree is the server's own copy`;
}
