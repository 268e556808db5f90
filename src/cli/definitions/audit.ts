import type { Command } from "commander";
import { run } from "../action.js";
import { leafCommand } from "../define.js";
import { repeatable, wholeNumber } from "../values.js";

const KEY = ["--key <pub.jwk>", "the log's public key as obtained out of band, never one from what is verified; repeat it for keys retired since (required)", repeatable] as const;
const RETIRED = [
  "--retired <keyid@index>",
  "a retired key given with --key (its key id or sha256: fingerprint) and the index of the key.rotated leaf that retired it: it signs no larger tree; repeat it for each retired key",
  repeatable,
] as const;
const PREVIOUS = ["--previous <checkpoint>", "a checkpoint kept from an earlier audit: the log must extend it"] as const;
const REQUIRE_PREVIOUS = ["--require-previous", "fail unless --previous is given"] as const;
const OFFLINE = "\nOffline: no database and no network; the checks and verdict lines of\naudit/verify.mjs.";

export function defineAudit(program: Command): void {
  const audit = program.command("audit").description("export the audit log, and verify exports, receipts and consistency proofs offline");
  const load = async () => import("../commands/audit.js");
  leafCommand(audit, "export", "export the log, up to a signed checkpoint, into a directory an auditor verifies offline")
    .requiredOption("--out <dir>", "the directory to write")
    .option("--from <index|time>", "first entry: an index, or an ISO 8601 time (the first entry at or after it)")
    .option("--to <index|time>", "end (exclusive): an index or an ISO 8601 time; the export ends at the largest signed checkpoint at or below it")
    .option("--previous-size <n>", "also prove that the exported checkpoint extends the one of this size", wholeNumber)
    .action(run(async () => (await load()).exportAuditCommand));
  leafCommand(audit, "verify", "verify an export")
    .argument("<dir>", "the export directory")
    .option(...KEY)
    .option(...RETIRED)
    .option(...PREVIOUS)
    .option(...REQUIRE_PREVIOUS)
    .addHelpText("after", OFFLINE)
    .action(run(async () => (await load()).verifyExportCommand));
  leafCommand(audit, "verify-receipt", "verify a receipt: the event is in the log, under a signed checkpoint")
    .argument("<receipt.json>", "the receipt")
    .option(...KEY)
    .option(...RETIRED)
    .option("--checkpoint <file>", "a checkpoint you kept: the receipt must be of its tree")
    .addHelpText("after", OFFLINE)
    .action(run(async () => (await load()).verifyReceiptCommand));
  leafCommand(audit, "verify-consistency", "verify a consistency proof: the newer checkpoint extends the older")
    .argument("<proof.json>", "the proof")
    .option(...KEY)
    .option(...RETIRED)
    .option(...PREVIOUS)
    .option(...REQUIRE_PREVIOUS)
    .addHelpText("after", OFFLINE)
    .action(run(async () => (await load()).verifyConsistencyCommand));
  leafCommand(audit, "key", "print a public key's id and fingerprint, to compare out of band")
    .argument("<pub.jwk>", "the public key")
    .addHelpText("after", OFFLINE)
    .action(run(async () => (await load()).keyIdentityCommand));
}
