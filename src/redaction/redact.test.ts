import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { redactJson } from "./json.js";
import { piiSafeLoggerOptions, redactLogLine } from "./log.js";
import { redact, Redactor } from "./redact.js";

const EMAIL = "jane.doe@example.com";
const IBAN = "DE89 3704 0044 0532 0130 00";
const CARD = "4111 1111 1111 1111";

describe("redact", () => {
  it("replaces each value by a typed placeholder, the same one for the same value, and restores them", () => {
    const input = `Mail ${EMAIL} about IBAN ${IBAN}; again: ${EMAIL.toUpperCase()} and DE89370400440532013000, card ${CARD}.`;
    const result = redact(input);
    expect(result.text).toBe("Mail [EMAIL_1] about IBAN [IBAN_1]; again: [EMAIL_1] and [IBAN_1], card [CARD_1].");
    expect(result.kinds).toEqual(["credit_card", "email", "iban"]);
    expect(result.findings.map((f) => f.kind)).toEqual(["email", "iban", "email", "iban", "credit_card"]);
    expect(result.restore("Sent to [EMAIL_1]; charged [CARD_1]; unknown [EMAIL_9].")).toBe(`Sent to ${EMAIL}; charged ${CARD}; unknown [EMAIL_9].`);
  });

  it("never issues a placeholder the caller's text already contains", () => {
    const result = redact(`literal [EMAIL_1] and ${EMAIL}`);
    expect(result.text).toBe("literal [EMAIL_1] and [EMAIL_2]");
    expect(result.restore("[EMAIL_1] [EMAIL_2]")).toBe(`[EMAIL_1] ${EMAIL}`);
  });

  it("never issues a placeholder held anywhere else in the request, as a continued conversation holds its record's", () => {
    // Message by message, the second would have got [EMAIL_1] too: one placeholder for two addresses.
    const redactor = new Redactor().reserve(["write to [EMAIL_1]", `and to ${EMAIL}`]);
    expect(redactor.redactText("write to [EMAIL_1]").text).toBe("write to [EMAIL_1]");
    expect(redactor.redactText(`and to ${EMAIL}`).text).toBe("and to [EMAIL_2]");
    expect(redactor.restore("[EMAIL_1], [EMAIL_2]")).toBe(`[EMAIL_1], ${EMAIL}`);
    const { value } = redactJson({ messages: [{ content: "write to [EMAIL_1]" }, { content: `and to ${EMAIL}` }] });
    expect(value).toEqual({ messages: [{ content: "write to [EMAIL_1]" }, { content: "and to [EMAIL_2]" }] });
  });

  it("restores a streamed answer whose placeholders are split across chunks", () => {
    const redactor = new Redactor();
    redactor.redactText(`to ${EMAIL} and ${IBAN}`);
    const stream = redactor.restoreStream();
    const chunks = ["Sending to [EM", "AIL_", "1] from [IBAN_1", "] ok [", "not a placeholder] [IB"];
    const out = chunks.map((c) => stream.push(c)).join("") + stream.end();
    expect(out).toBe(`Sending to ${EMAIL} from ${IBAN} ok [not a placeholder] [IB`);
  });

  it("redacts every string of a JSON value, keys included, sharing placeholders with the request", () => {
    const redactor = new Redactor();
    expect(redactor.redactText(`from ${EMAIL}`).text).toBe("from [EMAIL_1]");
    const { value } = redactJson({ messages: [{ role: "user", content: `pay ${IBAN} for ${EMAIL}` }], [EMAIL]: 1, amount: 4111111111111111, ok: true, none: null }, {}, redactor);
    expect(value).toEqual({ messages: [{ role: "user", content: "pay [IBAN_1] for [EMAIL_1]" }], "[EMAIL_1]": 1, amount: 4111111111111111, ok: true, none: null });
  });
});

describe("logs", () => {
  it("a pino logger with piiSafeLoggerOptions writes no detected PII, by any path", () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const logger = pino({ level: "info", ...piiSafeLoggerOptions() }, sink).child({ caller: EMAIL });
    logger.info({ body: { iban: IBAN, note: `tab\t${CARD}` } }, "payment from %s", EMAIL);
    logger.error(new Error(`card ${CARD} declined for ${EMAIL}`));
    logger.warn(`phone +1 415 555 2671, ip 10.1.2.3`);
    const all = lines.join("");
    for (const value of [EMAIL, IBAN, CARD, "415 555 2671", "10.1.2.3"]) expect(all).not.toContain(value);
    expect(all).not.toContain("4111");
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ caller: "[EMAIL_1]", msg: "payment from [EMAIL_1]", body: { iban: "[IBAN_1]", note: "tab\t[CARD_1]" } });
    expect(JSON.parse(lines[1]!).err.message).toBe("card [CARD_1] declined for [EMAIL_1]");
  });

  it("redactLogLine keeps a non-JSON line a line", () => {
    expect(redactLogLine(`plain ${EMAIL}\n`)).toBe("plain [EMAIL_1]\n");
  });
});
