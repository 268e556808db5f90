import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../../util/canonical-json.js";
import { GENESIS_CHAIN_HASH, LeafError, chainHash, decodeLeaf, encodeLeaf, encodeLeafFromText, type AuditEvent } from "./entry.js";

const event: AuditEvent = {
  v: 1,
  id: "0190f5c2-7a00-7123-8456-0123456789ab",
  time: "2025-03-04T05:06:07.089Z",
  kind: "request",
  request: { id: "req-1", endpoint: "/v1/chat/completions" },
  parameters: { temperature: 0.7, stop: ["\n"], n: 1e21, tiny: 1e-7, "€": "é", "😀": true, z: null },
  usage: { promptTokens: 12, completionTokens: 34 },
  latencyMs: 12.25,
  outcome: { status: "succeeded" },
};
const prev = createHash("sha256").update("previous leaf").digest();

function decodeError(bytes: Uint8Array | string): LeafError {
  try {
    decodeLeaf(typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(LeafError);
    return error as LeafError;
  }
  throw new Error("decodeLeaf accepted it");
}

/** A leaf written by hand, in canonical form (keys sorted), from a JSON text of the event. */
function leafText(eventJson: string, index = 7, prevHex = prev.toString("hex")): string {
  return `{"event":${eventJson},"index":${index},"prev":"${prevHex}"}`;
}
const MINIMAL = '{"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}';

describe("encodeLeaf", () => {
  it("writes the canonical JSON of {event, index, prev}: sorted keys, no whitespace, ES number forms", () => {
    const leaf = encodeLeaf(7, prev, event).toString("utf8");
    expect(leaf.startsWith('{"event":{"id":"0190f5c2-7a00-7123-8456-0123456789ab","kind":"request","latencyMs":12.25,"outcome":{"status":"succeeded"},')).toBe(true);
    expect(leaf).toContain('"parameters":{"n":1e+21,"stop":["\\n"],"temperature":0.7,"tiny":1e-7,"z":null,"€":"é","😀":true}');
    expect(leaf.endsWith(`"v":1},"index":7,"prev":"${prev.toString("hex")}"}`)).toBe(true);
    expect(leaf).not.toMatch(/\s(?=[^"]*(?:"[^"]*"[^"]*)*$)/); // no whitespace outside strings
    expect(leaf.includes("\n")).toBe(false); // safe as one line of JSONL
  });

  it("is independent of the event's key order", () => {
    const shuffled = Object.fromEntries(Object.entries(event).reverse()) as unknown as AuditEvent;
    expect(encodeLeaf(7, prev, shuffled).equals(encodeLeaf(7, prev, event))).toBe(true);
  });

  it("uses 64 zeros as the first leaf's prev", () => {
    expect(encodeLeaf(0, GENESIS_CHAIN_HASH, event).toString()).toContain(`"index":0,"prev":"${"0".repeat(64)}"`);
    expect(GENESIS_CHAIN_HASH.equals(Buffer.alloc(32))).toBe(true);
  });

  it("refuses bad indexes, prevs and events", () => {
    expect(() => encodeLeaf(-1, prev, event)).toThrow(RangeError);
    expect(() => encodeLeaf(1.5, prev, event)).toThrow(RangeError);
    expect(() => encodeLeaf(2 ** 53, prev, event)).toThrow(RangeError);
    expect(() => encodeLeaf(1, prev.subarray(1), event)).toThrow(RangeError);
    expect(() => encodeLeaf(1, prev, { ...event, v: 2 } as unknown as AuditEvent)).toThrow(/version/);
    expect(() => encodeLeaf(1, prev, { ...event, id: "" })).toThrow(/id/);
    expect(() => encodeLeaf(1, prev, { ...event, time: "2025-03-04T05:06:07Z" })).toThrow(/time/);
    expect(() => encodeLeaf(1, prev, { ...event, kind: "" as AuditEvent["kind"] })).toThrow(/kind/);
    expect(() => encodeLeaf(1, prev, { ...event, latencyMs: Number.NaN })).toThrow(TypeError);
  });
});

describe("encodeLeafFromText", () => {
  it("writes exactly the bytes encodeLeaf writes for the parsed event", () => {
    for (const [index, chain] of [[0, GENESIS_CHAIN_HASH], [7, prev], [2 ** 40, prev]] as const) {
      const { leaf, event: parsed } = encodeLeafFromText(index, chain, canonicalize(event));
      expect(leaf.equals(encodeLeaf(index, chain, event))).toBe(true);
      expect(parsed).toEqual(JSON.parse(canonicalize(event)));
      expect(decodeLeaf(leaf).index).toBe(index);
    }
  });

  it("refuses text that is not the canonical JSON of a valid event", () => {
    const text = canonicalize(event);
    expect(() => encodeLeafFromText(1, prev, JSON.stringify(event, null, 1))).toThrow(/canonical/);
    expect(() => encodeLeafFromText(1, prev, JSON.stringify(Object.fromEntries(Object.entries(event).reverse())))).toThrow(/canonical/);
    expect(() => encodeLeafFromText(1, prev, text.slice(0, -1))).toThrow(/not JSON/);
    expect(() => encodeLeafFromText(1, prev, canonicalize({ ...event, v: 2 }))).toThrow(/version/);
    expect(() => encodeLeafFromText(1, prev, "[]")).toThrow(/not an object/);
    // A raw lone surrogate has no UTF-8 form: the leaf would hold U+FFFD instead. Canonical JSON escapes it.
    expect(() => encodeLeafFromText(1, prev, text.replace('"request"', '"\ud800request"'))).toThrow(/canonical/);
    const escaped = encodeLeafFromText(1, prev, text.replace('"request"', '"\\ud800request"')).leaf;
    expect(decodeLeaf(escaped).event.kind).toBe("\ud800request");
    expect(() => encodeLeafFromText(-1, prev, text)).toThrow(RangeError);
    expect(() => encodeLeafFromText(1, prev.subarray(1), text)).toThrow(RangeError);
  });
});

describe("decodeLeaf", () => {
  it("round-trips what encodeLeaf writes", () => {
    const leaf = encodeLeaf(7, prev, event);
    const decoded = decodeLeaf(leaf);
    expect(decoded.index).toBe(7);
    expect(decoded.prev.equals(prev)).toBe(true);
    expect(decoded.event).toEqual(event);
    expect(decodeLeaf(new Uint8Array(leaf)).index).toBe(7);
    expect(decodeLeaf(Buffer.from(leafText(MINIMAL))).event.kind).toBe("request");
  });

  it("accepts keys whose canonical order is not the order JavaScript enumerates them in", () => {
    // V8 lists integer-like keys first, numerically; RFC 8785 sorts "10" before "9" (code units).
    const text = leafText('{"detail":{"10":1,"9":2,"a":3},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}');
    expect(decodeLeaf(Buffer.from(text)).event.detail).toEqual({ "9": 2, "10": 1, a: 3 });
    expect(decodeError(leafText('{"detail":{"9":2,"10":1},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}')).code).toBe("not_canonical");
    // An own "__proto__" member survives parsing and canonical form alike.
    expect(decodeLeaf(Buffer.from(leafText('{"detail":{"__proto__":{"a":1}},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'))).event.detail).toHaveProperty("__proto__");
  });

  it("refuses every non-canonical spelling of the same leaf", () => {
    const canonical = leafText(MINIMAL);
    const variants = [
      canonical.replace('"index":7', '"index": 7'), // whitespace
      ` ${canonical}`,
      `${canonical} `,
      `${canonical}\r`,
      canonical.replace('"index":7', '"index":7.0'), // number forms
      canonical.replace('"index":7', '"index":7e0'),
      canonical.replace('"index":7', '"index":0.7e1'),
      canonical.replace('"v":1', '"v":1.0'),
      `{"index":7,"event":${MINIMAL},"prev":"${prev.toString("hex")}"}`, // key order
      leafText('{"kind":"request","id":"x","time":"2025-03-04T05:06:07.089Z","v":1}'),
      canonical.replace('"id":"x"', '"id":"\\u0078"'), // escapes JSON.stringify would not write
      canonical.replace('"id":"x"', '"id":"\\/"'),
      leafText('{"detail":{"s":"\\u00e9"},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'),
      leafText('{"detail":{"s":"\\u001F"},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'),
      leafText('{"detail":{"s":"\\ud83d\\ude00"},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'),
      canonical.replace('"index":7', '"index":7,"index":7'), // duplicate member
    ];
    for (const text of variants) expect(decodeError(text).code, text).toBe("not_canonical");
    // The canonical spellings of such content are accepted.
    expect(decodeLeaf(Buffer.from(leafText('{"detail":{"s":"\\u001f"},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'))).event.detail).toEqual({ s: "\u001f" });
    expect(decodeLeaf(Buffer.from(leafText('{"detail":{"s":"é😀"},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'))).event.detail).toEqual({ s: "é😀" });
  });

  it("refuses bytes that are not UTF-8, even when they decode to the canonical text", () => {
    const canonical = Buffer.from(leafText('{"detail":{"s":"\ufffd"},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'));
    expect(decodeLeaf(canonical).event.detail).toEqual({ s: "\ufffd" });
    // The same text with the U+FFFD spelled as an invalid byte: Buffer#toString would give the identical string.
    const at = canonical.indexOf(Buffer.from("\ufffd"));
    const invalid = Buffer.concat([canonical.subarray(0, at), Buffer.of(0xff), canonical.subarray(at + 3)]);
    expect(invalid.toString("utf8")).toBe(canonical.toString("utf8"));
    expect(decodeError(invalid).code).toBe("not_canonical");
    // An overlong encoding of "x", and a UTF-8-encoded surrogate.
    const overlong = Buffer.concat([Buffer.from(leafText(MINIMAL).split('"x"')[0] as string), Buffer.from([0x22, 0xc1, 0xb8, 0x22]), Buffer.from(leafText(MINIMAL).split('"x"')[1] as string)]);
    expect(decodeError(overlong).code).toBe("not_canonical");
    expect(decodeError(Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d])).code).toBe("not_canonical");
  });

  it("refuses JSON that is not a leaf", () => {
    const cases: [string, RegExp][] = [
      ["", /not JSON/],
      [`\ufeff${leafText(MINIMAL)}`, /not JSON/], // a byte order mark
      ["{", /not JSON/],
      ['"leaf"', /not a JSON object/],
      ["[]", /not a JSON object/],
      ["null", /not a JSON object/],
      [`{"event":${MINIMAL},"index":7}`, /no "prev"/],
      [`{"event":${MINIMAL},"prev":"${prev.toString("hex")}"}`, /no "index"/],
      [`{"index":7,"prev":"${prev.toString("hex")}"}`, /no "event"/],
      [`{"event":${MINIMAL},"extra":1,"index":7,"prev":"${prev.toString("hex")}"}`, /unexpected field "extra"/],
      [leafText(MINIMAL, -1), /index/],
      [leafText(MINIMAL, 9007199254740992), /index/],
      [leafText(MINIMAL, 0.5), /index/],
      [leafText(MINIMAL).replace('"index":7', '"index":"7"'), /index/],
      [leafText(MINIMAL, 7, prev.toString("hex").toUpperCase()), /prev/],
      [leafText(MINIMAL, 7, prev.toString("hex").slice(2)), /prev/],
      [leafText(MINIMAL, 7, `${prev.toString("hex").slice(2)}zz`), /prev/],
      [leafText("[]"), /not an object/],
      [leafText('{"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":2}'), /version 2/],
      [leafText('{"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z"}'), /version undefined/],
      [leafText('{"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":"1"}'), /version "1"/],
      [leafText('{"kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'), /no id/],
      [leafText('{"id":"","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}'), /no id/],
      [leafText('{"id":"x","kind":"request","v":1}'), /time/],
      [leafText('{"id":"x","kind":"request","time":"yesterday","v":1}'), /time/],
      [leafText('{"id":"x","time":"2025-03-04T05:06:07.089Z","v":1}'), /no kind/],
      [leafText('{"id":"x","kind":7,"time":"2025-03-04T05:06:07.089Z","v":1}'), /no kind/],
    ];
    for (const [text, reason] of cases) {
      const error = decodeError(text);
      expect(error.code, text).toBe("malformed");
      expect(error.message, text).toMatch(reason);
    }
  });

  it("refuses nesting too deep to put in canonical form without crashing", () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    const error = decodeError(leafText(`{"detail":{"d":${deep}},"id":"x","kind":"request","time":"2025-03-04T05:06:07.089Z","v":1}`));
    expect(["malformed", "not_canonical"]).toContain(error.code);
  });
});

describe("chainHash", () => {
  it("is SHA-256 of the leaf bytes", () => {
    const leaf = encodeLeaf(3, prev, event);
    expect(chainHash(leaf).equals(createHash("sha256").update(leaf).digest())).toBe(true);
    expect(chainHash(new Uint8Array(0)).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("links each leaf to the one before", () => {
    let previous = GENESIS_CHAIN_HASH;
    for (let index = 0; index < 5; index++) {
      const leaf = encodeLeaf(index, previous, { ...event, id: `e${index}` });
      expect(decodeLeaf(leaf).prev.equals(previous)).toBe(true);
      previous = chainHash(leaf);
    }
  });
});
