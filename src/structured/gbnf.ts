/** One GBNF element (a rule name or a literal) and the most characters any text it matches can have. */
export interface Fragment {
  readonly element: string;
  readonly maxChars: number;
}

/**
 * The named rules of one grammar. A body that was already defined reuses its rule, so shared shapes (the string
 * character, a common integer range) appear once.
 */
export class GbnfRules {
  private readonly nameByBody = new Map<string, string>();
  private readonly usedNames = new Set<string>(["root"]);
  private readonly lines: string[] = [];

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
    let name = base;
    for (let n = 2; this.usedNames.has(name); n++) name = `${base}-${n}`;
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
  const maxChars = Math.max(...options.map((option) => option.maxChars));
  if (elements.length === 1) return { element: elements[0]!, maxChars };
  return { element: rules.define(nameHint, elements.join(" | ")), maxChars };
}

/**
 * `open item,item,... close` with minItems..maxItems items. The items live in their own rule because llama.cpp
 * multiplies nested repetition counts inside one rule and refuses the grammar past 2000.
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
  const more = repeat(`("," ${item.element})`, Math.max(minItems - 1, 0), maxItems - 1);
  const items = rules.define(`${nameHint}-items`, sequence(item.element, more));
  const body = sequence(literal(open).element, minItems === 0 ? `${items}?` : items, literal(close).element);
  return {
    element: rules.define(nameHint, body),
    maxChars: open.length + close.length + maxItems * item.maxChars + (maxItems - 1),
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
