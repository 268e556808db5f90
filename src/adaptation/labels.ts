/**
 * The grammar of the `labels` strategy: the answer is exactly one of the labels. Labels are short single lines
 * (src/adaptation/adapters/fit-jobs.ts labelOf), written as GBNF string literals.
 */
export function labelGrammar(labels: readonly string[]): string {
  return `root ::= ${labels.map(gbnfLiteral).join(" | ")}`;
}

function gbnfLiteral(text: string): string {
  let literal = "";
  for (const char of text) {
    if (char === '"' || char === "\\") literal += `\\${char}`;
    // Control characters as \x escapes (llama.cpp's GBNF knows \x, \t, \n, \r but not JSON's \b or \f).
    else if (char.charCodeAt(0) < 0x20) literal += `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else literal += char;
  }
  return `"${literal}"`;
}
