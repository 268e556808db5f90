/**
 * The first member name that occurs twice in one object of `json`, or undefined when none does. JSON.parse keeps
 * the last of duplicates silently, so a JWT header `{"alg":"none","alg":"EdDSA"}` reads as EdDSA to one parser
 * and as none to another; RFC 7515 §5.2 lets a verifier refuse such a token, and Atomic does.
 *
 * Not a parser: it expects text that JSON.parse accepts (anything else is left for the caller to refuse) and only
 * tracks which strings are member names — a string right after `{` or `,` inside an object. Names are compared
 * after their escapes are decoded, so `"s\u0075b"` is `"sub"`. Iterative: nesting depth costs no stack.
 */
export function duplicateMember(json: string): string | undefined {
  const frames: Array<{ names: Set<string> } | null> = [];
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const char = json[i];
    if (char === "{") {
      frames.push({ names: new Set() });
      expectName = true;
    } else if (char === "[") {
      frames.push(null);
    } else if (char === "}" || char === "]") {
      frames.pop();
      expectName = false;
    } else if (char === ",") {
      expectName = frames.at(-1) != null;
    } else if (char === ":") {
      expectName = false;
    } else if (char === '"') {
      const end = stringEnd(json, i);
      const frame = frames.at(-1);
      if (expectName && frame != null) {
        const name = JSON.parse(json.slice(i, end + 1)) as string;
        if (frame.names.has(name)) return name;
        frame.names.add(name);
      }
      expectName = false;
      i = end;
    }
  }
  return undefined;
}

/** Index of the quote that closes the string opening at `start`. */
function stringEnd(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length && json[i] !== '"') i += json[i] === "\\" ? 2 : 1;
  return i;
}
