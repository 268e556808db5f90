import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { verifyExport, type VerifyVerdict } from "./verify-export.js";

export const USAGE = "usage: node verify.mjs DIR --key pub.jwk [--key older.jwk ...] [--previous checkpoint-file]";

export interface CliResult {
  /** 0: the export verifies; 1: it does not; 2: the command line or its files could not be used. */
  exitCode: 0 | 1 | 2;
  /** One line for stdout (the verdict), or undefined. */
  stdout?: string;
  /** One line for stderr (a usage error), or undefined. */
  stderr?: string;
}

/** The offline verifier's command line, without touching process: audit/verify.mjs runs it through cli.ts. */
export async function runVerifierCli(argv: readonly string[]): Promise<CliResult> {
  let dir: string;
  /** Several after a key rotation: the current key and the retired ones that signed earlier checkpoints. */
  let keyPaths: string[];
  let previousPath: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { key: { type: "string", multiple: true }, previous: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) return { exitCode: 0, stdout: USAGE };
    if (positionals.length !== 1 || positionals[0] === undefined || values.key === undefined || values.key.length === 0) return { exitCode: 2, stderr: USAGE };
    dir = positionals[0];
    keyPaths = values.key;
    previousPath = values.previous;
  } catch (error) {
    return { exitCode: 2, stderr: `${(error as Error).message}\n${USAGE}` };
  }

  const isDirectory = await stat(dir).then((info) => info.isDirectory(), () => false);
  if (!isDirectory) return { exitCode: 2, stderr: `${dir} is not a directory\n${USAGE}` };
  const keyTexts: string[] = [];
  let previousCheckpoint: string | undefined;
  for (const keyPath of keyPaths) {
    try {
      keyTexts.push(await readFile(keyPath, "utf8"));
    } catch (error) {
      return { exitCode: 2, stderr: `cannot read the key file ${keyPath}: ${(error as Error).message}` };
    }
  }
  if (previousPath !== undefined) {
    try {
      previousCheckpoint = await readFile(previousPath, "utf8");
    } catch (error) {
      return { exitCode: 2, stderr: `cannot read the previous checkpoint ${previousPath}: ${(error as Error).message}` };
    }
  }
  const publicKeyJwk = keyTexts.map(parseJwk);
  const verdict = await verifyExport(dir, { publicKeyJwk, ...(previousCheckpoint === undefined ? {} : { previousCheckpoint }) });
  return { exitCode: verdict.ok ? 0 : 1, stdout: verdictLine(verdict) };
}

function parseJwk(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // verifyExport reports key_invalid
  }
}

/** The one-line verdict: "OK: origin X, entries [from, to), root R…" or "FAILED at index N: code: reason". */
export function verdictLine(verdict: VerifyVerdict): string {
  if (!verdict.ok) {
    return `FAILED${verdict.index === undefined ? "" : ` at index ${verdict.index}`}: ${verdict.code}: ${verdict.reason}`;
  }
  let line = `OK: origin ${verdict.origin}, entries [${verdict.from}, ${verdict.to}), root ${verdict.root}`;
  const consistency = verdict.consistency;
  if (consistency !== undefined) {
    line +=
      consistency.against === "unchecked"
        ? `; consistency from size ${consistency.oldSize} NOT checked (give the checkpoint of that size with --previous)`
        : `; extends size ${consistency.oldSize} (root ${consistency.oldRoot ?? "?"}, checked against ${consistency.against === "previous-checkpoint" ? "the previous checkpoint" : "the exported leaves"})`;
  }
  return line;
}
