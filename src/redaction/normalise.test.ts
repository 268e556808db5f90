import { describe, expect, it } from "vitest";
import { detectPii } from "./detect.js";
import { readableText } from "./normalise.js";
import { redactLogLine } from "./log.js";
import { redact } from "./redact.js";

/** What each finding covers in the text as given: the exact original characters. */
function found(text: string): Array<[string, string]> {
  return detectPii(text).map((f) => [f.kind, text.slice(f.start, f.end)]);
}

const FULL_WIDTH_CARD = "４１１１ １１１１ １１１１ １１１１";
const ZERO_WIDTH_EMAIL = "jane.doe@hos\u200bpital.example";
const PERCENT_EMAIL = "jane.doe%40hospital.example";

describe("detection reads text as a reader would, not as it was encoded to evade it", () => {
  it("finds full-width digits and letters (NFKC), and decimal digits of other scripts", () => {
    expect(found(`Card ${FULL_WIDTH_CARD}, due 2027.`)).toEqual([["credit_card", FULL_WIDTH_CARD]]);
    expect(found("Mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ today")).toEqual([["email", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ"]]);
    // Arabic-Indic and Devanagari digits: the same card number.
    expect(found("card ٤١١١١١١١١١١١١١١١ ok")).toEqual([["credit_card", "٤١١١١١١١١١١١١١١١"]]);
    expect(found("card ४१११ ११११ ११११ ११११ ok")).toEqual([["credit_card", "४१११ ११११ ११११ ११११"]]);
  });

  it("finds values split by characters that render as nothing, and covers those characters too", () => {
    expect(found(`Write to ${ZERO_WIDTH_EMAIL} today`)).toEqual([["email", ZERO_WIDTH_EMAIL]]);
    for (const invisible of ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]) {
      const card = ["4111", "1111", "1111", "1111"].join(invisible);
      expect(found(`pay ${card} now`), JSON.stringify(invisible)).toEqual([["credit_card", card]]);
    }
  });

  it("finds percent-encoded values, in a URL and in prose, encoded once or twice, and encoded UTF-8", () => {
    expect(found(`GET /v1/executions/${PERCENT_EMAIL}/4111111111111111`)).toEqual([["email", PERCENT_EMAIL], ["credit_card", "4111111111111111"]]);
    expect(found("to jane.doe%2540hospital.example, ok")).toEqual([["email", "jane.doe%2540hospital.example"]]);
    expect(found("q=4111%201111%201111%201111&x=1")).toEqual([["credit_card", "4111%201111%201111%201111"]]);
    expect(found("to jane%E2%80%8B.doe@hospital.example")).toEqual([["email", "jane%E2%80%8B.doe@hospital.example"]]);
  });

  it("maps every finding back to its exact original span: nothing of the value survives, nothing beside it is cut", () => {
    const text = `Ａ note, café: ${FULL_WIDTH_CARD}\u200b; ﬁle ${ZERO_WIDTH_EMAIL} and ${PERCENT_EMAIL}. 100% done, 50%2 left.`;
    const result = redact(text);
    expect(result.text).toBe("Ａ note, café: [CARD_1]\u200b; ﬁle [EMAIL_1] and [EMAIL_1]. 100% done, 50%2 left.");
    expect(result.findings.map((f) => text.slice(f.start, f.end))).toEqual([FULL_WIDTH_CARD, ZERO_WIDTH_EMAIL, PERCENT_EMAIL]);
    // The same address however it was written is one value: one placeholder, restored as first written.
    expect(result.restore("[EMAIL_1]")).toBe(ZERO_WIDTH_EMAIL);
  });

  it("leaves plain ASCII as it is, and maps an expanded character back whole", () => {
    const plain = readableText("Contact jane@example.org, 4111 1111 1111 1111");
    expect(plain.text).toBe("Contact jane@example.org, 4111 1111 1111 1111");
    expect(plain.originalSpan(3, 9)).toEqual({ start: 3, end: 9 });
    const ligature = readableText("ﬁ ４%41");
    expect(ligature.text).toBe("fi 4A");
    expect(ligature.originalSpan(1, 2)).toEqual({ start: 0, end: 1 });
    expect(ligature.originalSpan(3, 5)).toEqual({ start: 2, end: 6 });
  });

  it("does not decode what is not percent-encoded UTF-8, nor take look-alikes for PII", () => {
    expect(readableText("50% of %zz and %C3 and %80").text).toBe("50% of %zz and %C3 and %80");
    expect(found("ref ４１１１ １１１１ １１１１ １１１２, ①②③")).toEqual([]);
  });

  it("keeps a percent-encoded address out of a log line (a request path, as the gateway logs it)", () => {
    const line = JSON.stringify({ msg: "request refused", url: `/v1/executions/${PERCENT_EMAIL}/4111%201111%201111%201111` });
    expect(JSON.parse(redactLogLine(line)).url).toBe("/v1/executions/[EMAIL_1]/[CARD_1]");
  });

  it("stays linear on adversarial input", () => {
    const cases = ["%".repeat(200_000), "%4".repeat(100_000), "%40".repeat(70_000), "%25".repeat(60_000) + "40", "\u200b".repeat(200_000), "４".repeat(200_000), "%E2%80%8B".repeat(20_000), "é".repeat(200_000)];
    for (const text of cases) {
      const started = performance.now();
      detectPii(text);
      expect(performance.now() - started, text.slice(0, 10)).toBeLessThan(2000);
    }
  });
});
