import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openDatabase } from "../../bootstrap/database.js";
import { auditKeyPaths } from "../../audit/key-files.js";
import { loadRetiredPublicKeys, loadSigningKey } from "../../audit/core/keys.js";
import { exportAudit } from "../../audit/store/exporter.js";
import { verdictLine } from "../../audit/verify/cli-main.js";
import { verifyExport } from "../../audit/verify/verify-export.js";
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

async function exportCommand(context: CommandContext, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, from: { type: "string" }, to: { type: "string" }, "previous-size": { type: "string" } },
  });
  if (!values.out) throw new UsageError("usage: atomic audit export --out DIR [--from INDEX|TIME] [--to INDEX|TIME] [--previous-size N]");
  const previous = values["previous-size"];
  if (previous !== undefined && !/^\d+$/.test(previous)) throw new UsageError("--previous-size must be a whole number");
  const paths = auditKeyPaths(context.config);
  const key = loadSigningKey(paths.signingKey, context.config.audit.origin);
  const retiredKeys = loadRetiredPublicKeys(paths.dir, context.config.audit.origin);
  const database = await openDatabase(context.config, context.logger);
  const progress = createProgress("exporting");
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
    return 0;
  } finally {
    await database.close();
  }
}

async function verifyCommand(context: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { key: { type: "string", multiple: true }, previous: { type: "string" } } });
  const dir = positionals[0];
  if (!dir || !values.key?.length || positionals.length > 1) {
    throw new UsageError("usage: atomic audit verify DIR --key pub.jwk [--key older.jwk ...] [--previous CHECKPOINT-FILE]");
  }
  const verdict = await verifyExport(dir, {
    // Several keys after a rotation: the current one and those that signed earlier checkpoints.
    publicKeyJwk: values.key.map((path) => JSON.parse(readFileSync(path, "utf8")) as unknown),
    ...(values.previous ? { previousCheckpoint: readFileSync(values.previous, "utf8") } : {}),
  });
  context.out(verdictLine(verdict));
  return verdict.ok ? 0 : 1;
}

/** `atomic audit export|verify`. verify needs no database and no network. */
export async function auditCommand(context: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "export": return exportCommand(context, rest);
    case "verify": return verifyCommand(context, rest);
    default: throw new UsageError("usage: atomic audit <export|verify>");
  }
}
