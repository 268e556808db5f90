import { parseArgs } from "node:util";
import { openDatabase } from "../../bootstrap/database.js";
import { auditKeyPaths } from "../../audit/key-files.js";
import { loadRetiredPublicKeys, loadSigningKey } from "../../audit/core/keys.js";
import { exportAudit, type ExportShortfall } from "../../audit/store/exporter.js";
import { parseVerifierArgs, runVerifierCommand } from "../../audit/verify/cli-main.js";
import type { CommandContext } from "../context.js";
import { createProgress } from "../progress.js";
import { UsageError } from "../usage.js";

const USAGE = [
  "usage: atomic audit export --out DIR [--from INDEX|TIME] [--to INDEX|TIME] [--previous-size N]",
  "       atomic audit verify DIR --key pub.jwk [--key older.jwk ...] [--previous CHECKPOINT-FILE] [--require-previous]",
  "       atomic audit verify-receipt RECEIPT.json --key pub.jwk [--key older.jwk ...] [--checkpoint CHECKPOINT-FILE]",
  "       atomic audit verify-consistency PROOF.json --key pub.jwk [--key older.jwk ...] [--previous CHECKPOINT-FILE] [--require-previous]",
  "       atomic audit key pub.jwk",
].join("\n");

/** An index, or a time (ISO 8601) that the exporter translates to the first index at or after it. */
function position(name: string, raw: string | undefined): number | Date | undefined {
  if (raw === undefined) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const time = new Date(raw);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--${name} must be an index or an ISO 8601 time, got ${raw}`);
  return time;
}

async function exportCommand(context: CommandContext, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, from: { type: "string" }, to: { type: "string" }, "previous-size": { type: "string" } },
  });
  if (!values.out) throw new UsageError(USAGE);
  const previous = values["previous-size"];
  if (previous !== undefined && !/^\d+$/.test(previous)) throw new UsageError("--previous-size must be a whole number");
  const paths = auditKeyPaths(context.config);
  const key = loadSigningKey(paths.signingKey, context.config.audit.origin);
  const retiredKeys = loadRetiredPublicKeys(paths.dir, context.config.audit.origin);
  const database = await openDatabase(context.config, context.logger, { joinRunning: true });
  const progress = createProgress("exporting", "entries");
  try {
    const result = await exportAudit({
      pool: database.stores.pool,
      outDir: values.out,
      key,
      retiredKeys,
      from: position("from", values.from),
      to: position("to", values.to),
      previousSize: previous === undefined ? undefined : Number(previous),
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish("done");
    context.out(`exported entries [${result.from}, ${result.to}) to ${values.out}`);
    if (result.shortOf !== undefined) context.out(shortfallLine(values.to as string, result.to, result.shortOf));
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

/**
 * `atomic audit verify|verify-receipt|verify-consistency|key`: the offline verifier of audit/verify.mjs, the same
 * checks and the same verdict lines; no database and no network.
 */
async function verifierCommand(context: CommandContext, mode: "export" | "receipt" | "consistency" | "key", args: string[]): Promise<number> {
  const parsed = parseVerifierArgs(mode === "export" ? args : [mode, ...args]);
  if ("help" in parsed) {
    context.out(USAGE);
    return 0;
  }
  if ("problem" in parsed) throw new UsageError(`${parsed.problem}\n${USAGE}`);
  if (parsed.command.mode !== mode) throw new UsageError(USAGE);
  const result = await runVerifierCommand(parsed.command);
  if (result.stdout !== undefined) context.out(result.stdout);
  if (result.stderr !== undefined) context.err(result.stderr);
  return result.exitCode;
}

/** `atomic audit export|verify|verify-receipt|verify-consistency|key`. Only export needs the database. */
export async function auditCommand(context: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "export": return exportCommand(context, rest);
    case "verify": return verifierCommand(context, "export", rest);
    case "verify-receipt": return verifierCommand(context, "receipt", rest);
    case "verify-consistency": return verifierCommand(context, "consistency", rest);
    case "key": return verifierCommand(context, "key", rest);
    default: throw new UsageError(USAGE);
  }
}
