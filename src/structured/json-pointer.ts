/** RFC 6901 JSON pointers: how violations and unsupported schema parts are located. */

export function appendPointer(pointer: string, ...segments: Array<string | number>): string {
  return pointer + segments.map((segment) => `/${String(segment).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** The value at `pointer` inside `document`, or undefined when there is none. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  if (pointer === "") return document;
  if (!pointer.startsWith("/")) return undefined;
  let current = document;
  for (const escaped of pointer.slice(1).split("/")) {
    const segment = escaped.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** The pointer of the first object or array nested more than `maxDepth` levels deep, or undefined if none is. */
export function pointerBeyondDepth(document: unknown, maxDepth: number, pointer = ""): string | undefined {
  if (typeof document !== "object" || document === null) return undefined;
  if (maxDepth < 0) return pointer;
  for (const [key, child] of Object.entries(document)) {
    const found = pointerBeyondDepth(child, maxDepth - 1, appendPointer(pointer, key));
    if (found !== undefined) return found;
  }
  return undefined;
}
