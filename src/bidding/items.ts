/**
 * Finding the enumerated items or sections of a prompt. Shared by the feature extractor (which only counts) and
 * the decomposer (which splits), so both agree on what an item is.
 *
 * Only numbered lines counted from 1 ("1." or "1)") and markdown headings ("#" to "###") start an item. Bullets
 * ("-", "*") do not: in prompts they are far more often formatting instructions ("- answer in French") than
 * separate pieces of work, and splitting those would change what is asked.
 */

/** Beyond this many characters only the head is scanned when counting: features must stay in microseconds. */
const COUNT_SCAN_LIMIT = 32_768;

const ITEM_LINE = /^[ \t]{0,3}(?:(\d{1,2})[.)][ \t]+\S|#{1,3}[ \t]+\S)/gm;

export interface ItemSpan {
  /** Offset of the item's first character (its number or heading marker). */
  start: number;
  /** Offset just past the item's last character, before the next item or the end of the text. */
  end: number;
}

/**
 * Item starts in order. A numbered list must count 1, 2, 3… without gaps (a stray "3." in prose is not a list);
 * headings count on their own. Mixed lists are read as whichever kind starts first.
 */
export function findItems(text: string, limit = text.length): ItemSpan[] {
  const spans: ItemSpan[] = [];
  const scanned = limit < text.length ? text.slice(0, limit) : text;
  // One line is never a list; most requests end here without running the pattern.
  if (scanned.indexOf("\n") === -1) return spans;
  let mode: "numbered" | "heading" | undefined;
  let expected = 1;
  ITEM_LINE.lastIndex = 0;
  for (let match = ITEM_LINE.exec(scanned); match !== null; match = ITEM_LINE.exec(scanned)) {
    const number = match[1];
    const kind = number === undefined ? "heading" : "numbered";
    mode ??= kind;
    if (kind !== mode) continue;
    if (kind === "numbered") {
      if (Number(number) !== expected) continue;
      expected += 1;
    }
    const previous = spans.at(-1);
    if (previous !== undefined) previous.end = match.index;
    spans.push({ start: match.index, end: text.length });
  }
  return spans;
}

/** How many items the text enumerates, looking at its head only. */
export function countItems(text: string): number {
  return findItems(text, COUNT_SCAN_LIMIT).length;
}
