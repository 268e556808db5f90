/**
 * The one place that imports Cedar. The package's default export is a bundler build that Node cannot load (it
 * imports a .wasm file as a module); the `/nodejs` build instantiates the same WebAssembly synchronously from disk,
 * offline, at first import.
 */
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { DetailedError } from "@cedar-policy/cedar-wasm/nodejs";

export { cedar };
export type { AuthorizationAnswer, DetailedError, EntityJson, EntityUidJson } from "@cedar-policy/cedar-wasm/nodejs";

/** "file:line:col: message (help)" for each Cedar error, positions taken relative to `text` placed at `offset` in the file. */
export function describeCedarError(file: string, fileText: string, error: DetailedError, offset = 0): string {
  const location = error.sourceLocations?.[0];
  const where = location ? `${file}:${lineAndColumn(fileText, offset + location.start)}` : file;
  const label = location?.label ? ` (${location.label})` : "";
  const help = error.help ? `; ${error.help}` : "";
  return `${where}: ${error.message}${label}${help}`;
}

function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}
