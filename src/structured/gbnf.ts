/** One GBNF element (a rule name or a literal) and the most characters any text it matches can have. */
export interface Fragment {
  readonly element: string;
  readonly maxChars: number;
}

/**
 * The named rules of one grammar. A body that was already defined reuses its rule, so shared shapes (the string
 * character, a common integer range) appear once. Names are lower case, after `prefix`: a grammar compiled with a
 * prefix that has a capital letter can be put beside another (tool calls beside an answer schema) without two
 * rules sharing a name.
 */
export class GbnfRules {
  private readonly nameByBody = new Map<string, string>();
  private readonly usedNames = new Set<string>(["root"]);
  private readonly lines: string[] = [];

  constructor(private readonly prefix = "") {}

  define(nameHint: string, body: string): string {
    const existing = this.nameByBody.get(body);
    if (existing !== undefined) return existing;
    const name = this.uniqueName(nameHint);
    this.nameByBody.set(body, name);
    this.lines.push(`${name} ::= ${body}`);
    return name;
  }

  render(root: Fragment): string {
    return [`root ::= ${root.element}`, ...this.lines].join("\n") + "\n";
  }

  /** GBNF names allow only letters, digits and dashes. */
  private uniqueName(hint: string): string {
    const base = hint.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "rule";
    let name = `${this.prefix}${base}`;
    for (let n = 2; this.usedNames.has(name); n++) name = `${this.prefix}${base}-${n}`;
    this.usedNames.add(name);
    return name;
  }
}

/** A GBNF literal for printable ASCII text. */
export function literal(text: string): Fragment {
  return { element: `"${text.replace(/[\\"]/g, "\\$&")}"`, maxChars: text.length };
}

/** `element` repeated min..max times, or "" for no repetition at all. */
export function repeat(element: string, min: number, max: number): string {
  if (max === 0) return "";
  if (min === max) return min === 1 ? element : `${element}{${min}}`;
  if (min === 0 && max === 1) return `${element}?`;
  return `${element}{${min},${max}}`;
}

export function sequence(...elements: string[]): string {
  return elements.filter((element) => element !== "").join(" ");
}

/** One of several fragments; a single distinct option needs no rule of its own. */
export function alternation(rules: GbnfRules, nameHint: string, options: readonly Fragment[]): Fragment {
  const elements = [...new Set(options.map((option) => option.element))];
  // Not Math.max(...): a caller's enum can list more values than a call takes arguments.
  const maxChars = options.reduce((longest, option) => Math.max(longest, option.maxChars), 0);
  if (elements.length === 1) return { element: elements[0]!, maxChars };
  return { element: rules.define(nameHint, elements.join(" | ")), maxChars };
}

/** The most spaces of indentation allowed after a line break inside JSON: eight levels of two. */
export const MAX_INDENT = 16;

/**
 * Optional layout between JSON tokens: nothing, one space, or a line break and up to MAX_INDENT spaces. Models
 * write JSON the way they saw it, mostly pretty-printed; forcing compact JSON pushed them off their habits and
 * cost accuracy (SmolLM2 135M extracting ages into a schema: 1 of 6 right compact, 6 of 6 with this layout).
 * Bounded like everything else, so the longest output stays finite.
 */
export function whitespace(rules: GbnfRules): Fragment {
  return { element: rules.define("ws", `("\\n" " "{0,${MAX_INDENT}} | " ")?`), maxChars: 1 + MAX_INDENT };
}

/**
 * `open item,item,... close` with minItems..maxItems items, with optional layout (`whitespace`) after the opening
 * bracket and each comma and before the closing one. The items live in their own rule because llama.cpp multiplies
 * nested repetition counts inside one rule and refuses the grammar past 2000.
 */
export function delimitedList(
  rules: GbnfRules,
  nameHint: string,
  brackets: { open: string; close: string },
  item: Fragment,
  minItems: number,
  maxItems: number,
): Fragment {
  const { open, close } = brackets;
  if (maxItems === 0) return literal(open + close);
  const ws = whitespace(rules);
  const more = repeat(`("," ${ws.element} ${item.element})`, Math.max(minItems - 1, 0), maxItems - 1);
  const items = rules.define(`${nameHint}-items`, sequence(item.element, more));
  const body = sequence(literal(open).element, ws.element, minItems === 0 ? `${items}?` : items, ws.element, literal(close).element);
  return {
    element: rules.define(nameHint, body),
    maxChars: open.length + close.length + maxItems * item.maxChars + (maxItems - 1) + (maxItems + 1) * ws.maxChars,
  };
}

/** Literal text and fragments one after another; adjacent text becomes a single literal. */
export function concat(parts: ReadonlyArray<string | Fragment>): { body: string; maxChars: number } {
  const elements: string[] = [];
  let text = "";
  let maxChars = 0;
  const flushText = () => {
    if (text !== "") elements.push(literal(text).element);
    text = "";
  };
  for (const part of parts) {
    if (typeof part === "string") {
      text += part;
      maxChars += part.length;
    } else {
      flushText();
      elements.push(part.element);
      maxChars += part.maxChars;
    }
  }
  flushText();
  return { body: elements.join(" "), maxChars };
}
