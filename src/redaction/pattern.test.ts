import { describe, expect, it } from "vitest";
import { patternReading } from "./pattern.js";
import { Redactor } from "./redact.js";

describe("patterns (a JSON Schema's regular expressions) are read for the literal text they spell", () => {
  it("reads escaped punctuation as the character, and redacts with placeholders the pattern matches literally", () => {
    const pattern = "^(jane\\.doe@hospital\\.example|\\+44 20 7946 0958)$|^\\d{3}\\.x$";
    expect(patternReading(pattern).text).toBe("^(jane.doe@hospital.example|+44 20 7946 0958)$|^\\d{3}.x$");
    const redactor = new Redactor();
    expect(redactor.redactText("to jane.doe@hospital.example").text).toBe("to [EMAIL_1]");
    const redacted = redactor.redactPattern(pattern);
    expect(redacted).toBe("^(\\[EMAIL_1\\]|\\[PHONE_1\\])$|^\\d{3}\\.x$");
    expect(new RegExp(redacted, "u").test("[EMAIL_1]")).toBe(true);
    expect(new RegExp(redacted, "u").test("123.x")).toBe(true);
  });
});
