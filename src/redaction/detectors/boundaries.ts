/** Helpers shared by detectors: where a number may start and end without being part of a longer token. */

function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** No letter, digit or "_" touches the span, nor a decimal point or comma with a digit beyond it (3.14159…). */
export function standsAlone(text: string, start: number, end: number): boolean {
  const before = start > 0 ? text.charCodeAt(start - 1) : -1;
  const after = end < text.length ? text.charCodeAt(end) : -1;
  if (isWordChar(before) || isWordChar(after)) return false;
  if ((before === 46 || before === 44) && start > 1 && isDigit(text.charCodeAt(start - 2))) return false;
  if ((after === 46 || after === 44) && end + 1 < text.length && isDigit(text.charCodeAt(end + 1))) return false;
  return true;
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export interface DigitGroup {
  start: number;
  end: number;
}

/**
 * Maximal runs of digit groups joined by one space or dash ("4111 1111-1111 1111"), found in one linear pass.
 * Numbers are written with all sorts of groupings; detectors try the spans that start and end on group edges.
 */
export function digitRuns(text: string, minLength = 1): DigitGroup[][] {
  const runs: DigitGroup[][] = [];
  const pattern = /\d+(?:[ -]\d+)*/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match[0].length < minLength) continue;
    const groups: DigitGroup[] = [];
    const groupPattern = /\d+/g;
    for (let g = groupPattern.exec(match[0]); g; g = groupPattern.exec(match[0])) {
      groups.push({ start: match.index + g.index, end: match.index + g.index + g[0].length });
    }
    runs.push(groups);
  }
  return runs;
}

/** The digits of text[start, end), separators dropped. */
export function digitsOf(text: string, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (isDigit(code)) out += text[i];
  }
  return out;
}
