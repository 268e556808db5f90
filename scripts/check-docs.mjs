#!/usr/bin/env node
// Checks the links of README.md and docs/*.md: a relative link must name a file or folder that exists, and an anchor
// (`#x`, `page.md#x`) a heading of that page. Prints one line per broken link and exits 1; exits 0 when none is.
// Usage: node scripts/check-docs.mjs [ROOT]   (ROOT: the repository, by default the one this script is in)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));

/** The page's prose: fenced code blocks blanked and inline code dropped, lines kept so that numbers stay right. */
function proseLines(text) {
  let fence = null;
  return text.split("\n").map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker[0];
      return "";
    }
    if (fence !== null) {
      if (marker?.[0] === fence) fence = null;
      return "";
    }
    return line.replace(/(`+)[^`]*?\1/g, "");
  });
}

/** GitHub's anchors: lower case, punctuation dropped, each space a hyphen, repeats numbered -1, -2, … */
function anchorsOf(text) {
  const seen = new Map();
  const anchors = new Set();
  let fence = null;
  for (const line of text.split("\n")) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === null || marker[0] === fence)) fence = fence === null ? marker[0] : null;
    const heading = fence === null && !marker ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const anchorCache = new Map();
function anchorsOfFile(file) {
  if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, "utf8")));
  return anchorCache.get(file);
}

const docsDir = join(root, "docs");
const pages = [join(root, "README.md")];
if (existsSync(docsDir)) {
  for (const name of readdirSync(docsDir).sort()) if (name.endsWith(".md")) pages.push(join(docsDir, name));
}

const problems = [];
for (const page of pages) {
  const text = readFileSync(page, "utf8");
  const shown = relative(root, page);
  proseLines(text).forEach((line, index) => {
    // Inline links and images `[text](target "title")`, and reference definitions `[label]: target`.
    const targets = [...line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (definition) targets.push(definition[1]);
    for (const target of targets) {
      if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // a URL (http:, mailto:, …): not ours
      const hash = target.indexOf("#");
      const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
      const file = path === "" ? page : resolve(dirname(page), path);
      const where = `${shown}:${index + 1}: ${target}`;
      if (path !== "" && !existsSync(file)) {
        problems.push(`${where}: no such file`);
      } else if (anchor !== null && anchor !== "" && file.endsWith(".md") && statSync(file).isFile()) {
        if (!anchorsOfFile(file).has(anchor)) problems.push(`${where}: no heading with this anchor`);
      }
    }
  });
}

for (const problem of problems) console.log(problem);
process.exit(problems.length === 0 ? 0 : 1);
