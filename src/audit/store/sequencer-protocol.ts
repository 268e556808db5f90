import type { NoteVerifier } from "../core/checkpoint.js";
import type { SigningKey } from "../core/keys.js";

/** What the worker is started with. KeyObjects survive the structured clone; the key never touches a file here. */
export interface SequencerWorkerData {
  databaseUrl: string;
  key: SigningKey;
  /** The log's earlier keys (rotated out): the last checkpoint may be one of theirs. */
  retired?: NoteVerifier[];
  origin: string;
  batchSize?: number;
  intervalMs?: number;
  electionIntervalMs?: number;
}

export type ToWorker = { type: "stop" };

export type ToMainThread =
  | { type: "started"; leader: boolean }
  | { type: "failed"; error: string }
  | { type: "stopped" }
  | { type: "leadership"; leader: boolean }
  | { type: "log"; level: "info" | "warn"; obj: object; msg?: string | undefined };
