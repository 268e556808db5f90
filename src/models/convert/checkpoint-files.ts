import { existsSync, readFileSync } from "node:fs";

/** A checkpoint the converter will not turn into GGUF; `file` names the input file at fault. */
export class ModelConversionError extends Error {
  constructor(readonly file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.name = "ModelConversionError";
  }
}

/** Parses a JSON file, or returns undefined when it does not exist; malformed JSON is a conversion error. */
export function readOptionalJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ModelConversionError(path, `not valid JSON (${(error as Error).message})`);
  }
}

export function readJson(path: string): unknown {
  const value = readOptionalJson(path);
  if (value === undefined) throw new ModelConversionError(path, "file is missing");
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}
