import { openDatabase } from "../../bootstrap/database.js";
import { auditKeyPaths } from "../../audit/key-files.js";
import { loadRetiredPublicKeys, loadSigningKey } from "../../audit/core/keys.js";
import { exportAudit, type ExportShortfall } from "../../audit/store/exporter.js";
import { NO_KEY, runVerifierCommand, type VerifierCommand } from "../../audit/verify/cli-main.js";
import { parseRetiredStatement } from "../../audit/verify/trusted-keys.js";
import type { CommandContext } from "../context.js";
import { createProgress } from "../progress.js";
import { UsageError } from "../usage.js";

/** An index, or a time (ISO 8601) that the exporter translates to the first index at or after it. */
function position(name: string, raw: string | undefined): number | Date | undefined {
  if (raw === undefined) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const time = new Date(raw);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--${name} must be an index or an ISO 8601 time, got ${raw}`);
  return time;
}

/** The options of `atomic audit export`, as src/cli/definitions/audit.ts declares them. */
export interface ExportAuditOptions {
  out: string;
  from?: string;
  to?: string;
  previousSize?: number;
}

/** `atomic audit export --out DIR`: the log up to a signed checkpoint, for an auditor to verify offline. */
export async function exportAuditCommand(context: CommandContext, options: ExportAuditOptions): Promise<number> {
  const from = position("from", options.from);
  const to = position("to", options.to);
  const paths = auditKeyPaths(context.config);
  const key = loadSigningKey(paths.signingKey, context.config.audit.origin);
  const retiredKeys = loadRetiredPublicKeys(paths.dir, context.config.audit.origin);
  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  const progress = createProgress("exporting", "entries");
  try {
    const result = await exportAudit({
      pool: database.stores.pool,
      outDir: options.out,
      key,
      retiredKeys,
      from,
      to,
      previousSize: options.previousSize,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish("done");
    context.out(`exported entries [${result.from}, ${result.to}) to ${options.out}`);
    if (result.shortOf !== undefined && options.to !== undefined) context.out(shortfallLine(options.to, result.to, result.shortOf));
    return 0;
  } finally {
    await database.close();
  }
}

/** Says plainly that the export stops before the `--to` asked for, why, and how to get the rest. */
function shortfallLine(to: string, exportedTo: number, { requested, nextSize }: ExportShortfall): string {
  const asked = /^\d+$/.test(to) ? `--to ${to}` : `--to ${to} (index ${requested})`;
  if (nextSize === null) {
    return `note: ${asked} is beyond the latest signed checkpoint, of ${exportedTo} leaves: an export ends at a signed checkpoint, so it ends there`;
  }
  return `note: ${asked}: an export ends at a signed checkpoint, and the largest at or below ${requested} is of ${exportedTo} leaves, ` +
    `so entries [${exportedTo}, ${requested}) are not in it; export with --to ${nextSize} to include them`;
}

/** The options of `atomic audit verify`, `verify-receipt` and `verify-consistency` (each takes those that apply). */
export interface VerifyOptions {
  key?: string[];
  retired?: string[];
  previous?: string;
  requirePrevious?: boolean;
  checkpoint?: string;
}

/** The keys to verify with: given on the command line, never taken from what is verified. */
function keysOf(options: VerifyOptions): string[] {
  if (options.key === undefined || options.key.length === 0) throw new UsageError(NO_KEY);
  return options.key;
}

/** Where retired keys were retired (--retired KEYID@INDEX), checked as audit/verify.mjs checks them. */
function retiredOf(options: VerifyOptions): { retired?: string[] } {
  for (const statement of options.retired ?? []) {
    const parsed = parseRetiredStatement(statement);
    if (typeof parsed === "string") throw new UsageError(parsed);
  }
  return options.retired === undefined ? {} : { retired: options.retired };
}

/**
 * Runs the offline verifier of audit/verify.mjs: the same checks and the same verdict lines; no database and no
 * network. A file it cannot use (exit 2) is a mistake in the command line, reported as one.
 */
async function verify(context: CommandContext, command: VerifierCommand): Promise<number> {
  const result = await runVerifierCommand(command);
  if (result.exitCode === 2) throw new UsageError(result.stderr?.split("\n")[0] ?? "the files given cannot be used");
  if (result.stdout !== undefined) context.out(result.stdout);
  if (result.stderr !== undefined) context.err(result.stderr);
  return result.exitCode;
}

/** `atomic audit verify DIR --key pub.jwk`. */
export function verifyExportCommand(context: CommandContext, options: VerifyOptions, path: string): Promise<number> {
  const keys = keysOf(options);
  return verify(context, { mode: "export", path, keys, ...retiredOf(options), requirePrevious: options.requirePrevious === true, ...(options.previous === undefined ? {} : { previous: options.previous }) });
}

/** `atomic audit verify-receipt RECEIPT.json --key pub.jwk`. */
export function verifyReceiptCommand(context: CommandContext, options: VerifyOptions, path: string): Promise<number> {
  const keys = keysOf(options);
  return verify(context, { mode: "receipt", path, keys, ...retiredOf(options), ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }) });
}

/** `atomic audit verify-consistency PROOF.json --key pub.jwk`. */
export function verifyConsistencyCommand(context: CommandContext, options: VerifyOptions, path: string): Promise<number> {
  const keys = keysOf(options);
  return verify(context, { mode: "consistency", path, keys, ...retiredOf(options), requirePrevious: options.requirePrevious === true, ...(options.previous === undefined ? {} : { previous: options.previous }) });
}

/** `atomic audit key pub.jwk`: a key's id and fingerprint. */
export function keyIdentityCommand(context: CommandContext, _options: unknown, path: string): Promise<number> {
  return verify(context, { mode: "key", path });
}
