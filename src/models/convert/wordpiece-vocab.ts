import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TokenType } from "../gguf/format.js";
import { isRecord, ModelConversionError, readOptionalJson } from "./checkpoint-files.js";

/**
 * A BERT WordPiece vocabulary in the form llama.cpp's WPM tokenizer reads. That tokenizer prefixes every word with
 * "▁" (the "phantom space") and matches greedily longest-first, so a word-initial piece `foo` is stored as "▁foo"
 * and a continuation piece `##foo` as plain "foo"; special tokens stay as they are.
 */
export interface WordPieceVocabulary {
  tokens: string[];
  tokenTypes: number[];
  cls: number;
  sep: number;
  pad: number;
  unk: number;
  mask: number | undefined;
  /** BertNormalizer settings llama.cpp can express: lowercasing, and stripping accents (NFD, drop marks). */
  lowercase: boolean;
  stripAccents: boolean;
}

const PHANTOM_SPACE = "\u2581";
const CONTINUATION_PREFIX = "##";

/** BertTokenizer's defaults, used when neither special_tokens_map.json nor tokenizer_config.json names a role. */
const DEFAULT_SPECIAL_TOKENS = { cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", unk: "[UNK]", mask: "[MASK]" } as const;
type SpecialRole = keyof typeof DEFAULT_SPECIAL_TOKENS;

/**
 * Reads vocab.txt (one token a line, id = line number) and the tokenizer settings beside it. tokenizer.json, when
 * present, is what sentence-transformers actually tokenizes with, so it must agree with vocab.txt and use only
 * steps llama.cpp's WPM tokenizer implements; anything else is refused rather than converted into a model that
 * would tokenize differently.
 */
export function readWordPieceVocabulary(modelDir: string, sentenceTransformersLowercase: boolean): WordPieceVocabulary {
  const vocabPath = join(modelDir, "vocab.txt");
  const pieces = readVocabFile(vocabPath);
  const idOf = new Map<string, number>();
  pieces.forEach((piece, id) => {
    if (idOf.has(piece)) throw new ModelConversionError(vocabPath, `token ${JSON.stringify(piece)} appears twice (lines ${idOf.get(piece)! + 1} and ${id + 1})`);
    idOf.set(piece, id);
  });

  const tokenizerConfigPath = join(modelDir, "tokenizer_config.json");
  const tokenizerConfig = asRecord(tokenizerConfigPath, readOptionalJson(tokenizerConfigPath));
  const specialMapPath = join(modelDir, "special_tokens_map.json");
  const specialMap = asRecord(specialMapPath, readOptionalJson(specialMapPath));
  const tokenizerJsonPath = join(modelDir, "tokenizer.json");
  const tokenizerJsonFile = readOptionalJson(tokenizerJsonPath);
  const tokenizerJson = asRecord(tokenizerJsonPath, tokenizerJsonFile);
  if (tokenizerJsonFile !== undefined) checkTokenizerJsonMatches(tokenizerJsonPath, tokenizerJson, pieces);

  const roleId = (role: SpecialRole, required: boolean): number | undefined => {
    const content = tokenContent(specialMap[`${role}_token`]) ?? tokenContent(tokenizerConfig[`${role}_token`]) ?? DEFAULT_SPECIAL_TOKENS[role];
    const id = idOf.get(content);
    if (id === undefined && required) throw new ModelConversionError(vocabPath, `the ${role} token ${JSON.stringify(content)} is not in the vocabulary`);
    return id;
  };
  const cls = roleId("cls", true)!;
  const sep = roleId("sep", true)!;
  const pad = roleId("pad", true)!;
  const unk = roleId("unk", true)!;
  const mask = roleId("mask", false);

  const control = new Set([cls, sep, pad, ...(mask === undefined ? [] : [mask])]);
  for (const id of specialAddedTokenIds(tokenizerJsonPath, tokenizerJson, pieces)) if (id !== unk) control.add(id);

  const tokenTypes = pieces.map((_, id) => (id === unk ? TokenType.UNKNOWN : control.has(id) ? TokenType.CONTROL : TokenType.NORMAL));
  const tokens = pieces.map((piece, id) => (tokenTypes[id] !== TokenType.NORMAL ? piece : phantomSpaceForm(piece)));
  const converted = new Map<string, number>();
  tokens.forEach((token, id) => {
    const clash = converted.get(token);
    if (clash !== undefined) {
      throw new ModelConversionError(vocabPath, `tokens ${JSON.stringify(pieces[clash])} and ${JSON.stringify(pieces[id])} both become ${JSON.stringify(token)} in llama.cpp's form`);
    }
    converted.set(token, id);
  });

  const normalizer = readNormalizer(tokenizerJsonPath, tokenizerJson, tokenizerConfigPath, tokenizerConfig);
  return {
    tokens,
    tokenTypes,
    cls,
    sep,
    pad,
    unk,
    mask,
    // sentence-transformers' own do_lower_case lowercases the text before the tokenizer sees it; accents survive.
    lowercase: normalizer.lowercase || sentenceTransformersLowercase,
    stripAccents: normalizer.stripAccents,
  };
}

function phantomSpaceForm(piece: string): string {
  return piece.startsWith(CONTINUATION_PREFIX) ? piece.slice(CONTINUATION_PREFIX.length) : PHANTOM_SPACE + piece;
}

function readVocabFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ModelConversionError(path, `cannot read the vocabulary (${(error as Error).message})`);
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length === 0) throw new ModelConversionError(path, "the vocabulary is empty");
  return lines;
}

function asRecord(path: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new ModelConversionError(path, "is not a JSON object");
  return value;
}

/** A special token is written either as its text or as `{ "content": text, ... }`. */
function tokenContent(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (isRecord(entry) && typeof entry.content === "string") return entry.content;
  return undefined;
}

/** Ids of tokenizer.json's added tokens marked special: they become control tokens, as in llama.cpp's converter. */
function specialAddedTokenIds(path: string, tokenizerJson: Record<string, unknown>, pieces: string[]): number[] {
  const added = tokenizerJson.added_tokens;
  if (added === undefined) return [];
  if (!Array.isArray(added)) throw new ModelConversionError(path, "added_tokens is not a list");
  return added.map((entry: unknown) => {
    if (!isRecord(entry) || typeof entry.id !== "number" || typeof entry.content !== "string") {
      throw new ModelConversionError(path, "an added_tokens entry lacks an id or content");
    }
    if (pieces[entry.id] !== entry.content) {
      throw new ModelConversionError(path, `added token ${JSON.stringify(entry.content)} (id ${entry.id}) is not that line of vocab.txt`);
    }
    if (entry.special !== true) {
      throw new ModelConversionError(path, `added token ${JSON.stringify(entry.content)} is not special; non-special added tokens are not supported`);
    }
    return entry.id;
  });
}

function checkTokenizerJsonMatches(path: string, tokenizerJson: Record<string, unknown>, pieces: string[]): void {
  const model = tokenizerJson.model;
  if (!isRecord(model) || model.type !== "WordPiece") throw new ModelConversionError(path, "model.type is not WordPiece");
  const prefix = model.continuing_subword_prefix ?? CONTINUATION_PREFIX;
  if (prefix !== CONTINUATION_PREFIX) throw new ModelConversionError(path, `model.continuing_subword_prefix is ${JSON.stringify(prefix)}, not "##"`);
  const vocab = model.vocab;
  if (!isRecord(vocab) || Object.keys(vocab).length !== pieces.length || pieces.some((piece, id) => vocab[piece] !== id)) {
    throw new ModelConversionError(path, "model.vocab differs from vocab.txt");
  }
  const preTokenizer = tokenizerJson.pre_tokenizer;
  if (preTokenizer !== undefined && preTokenizer !== null && !(isRecord(preTokenizer) && preTokenizer.type === "BertPreTokenizer")) {
    throw new ModelConversionError(path, "pre_tokenizer is not BertPreTokenizer, the only one llama.cpp's WPM tokenizer implements");
  }
}

/**
 * llama.cpp's WPM tokenizer always cleans text (drops control characters) and splits CJK characters; it can
 * switch lowercasing and accent stripping (tokenizer.ggml.normalizer.*). Settings outside that are refused.
 */
function readNormalizer(
  tokenizerJsonPath: string,
  tokenizerJson: Record<string, unknown>,
  tokenizerConfigPath: string,
  tokenizerConfig: Record<string, unknown>,
): { lowercase: boolean; stripAccents: boolean } {
  const normalizer = tokenizerJson.normalizer;
  if (normalizer !== undefined) {
    if (!isRecord(normalizer) || normalizer.type !== "BertNormalizer") {
      throw new ModelConversionError(tokenizerJsonPath, "normalizer is not a BertNormalizer, which llama.cpp cannot express");
    }
    if (normalizer.clean_text === false || normalizer.handle_chinese_chars === false) {
      throw new ModelConversionError(tokenizerJsonPath, "normalizer turns off clean_text or handle_chinese_chars, which llama.cpp always applies");
    }
    return bertNormalizerFlags(tokenizerJsonPath, normalizer.lowercase, normalizer.strip_accents);
  }
  if (tokenizerConfig.tokenize_chinese_chars === false) {
    throw new ModelConversionError(tokenizerConfigPath, "tokenize_chinese_chars is false, but llama.cpp always splits CJK characters");
  }
  return bertNormalizerFlags(tokenizerConfigPath, tokenizerConfig.do_lower_case, tokenizerConfig.strip_accents);
}

/** Missing lowercase means true (BertTokenizer's default); a null strip_accents follows lowercase, as in HF. */
function bertNormalizerFlags(path: string, lowercase: unknown, stripAccents: unknown): { lowercase: boolean; stripAccents: boolean } {
  const lower = lowercase ?? true;
  const strip = stripAccents ?? lower;
  if (typeof lower !== "boolean" || typeof strip !== "boolean") throw new ModelConversionError(path, "lowercase / strip_accents are not booleans");
  return { lowercase: lower, stripAccents: strip };
}
