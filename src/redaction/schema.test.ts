import { describe, expect, it } from "vitest";
import { compileJsonSchemaToGbnf, parseStructuredOutput } from "../structured/index.js";
import { Redactor } from "./redact.js";
import { redactSchema, schemaTexts } from "./schema.js";

const EMAIL = "jane.doe@hospital.example";
const CARD = "4111 1111 1111 1111";
const PHONE = "+44 20 7946 0958";

/** PII in every place of a schema a model is steered by or reads. */
const schema = {
  title: `Reply for ${EMAIL}`,
  description: `Card on file: ${CARD}`,
  type: "object",
  properties: {
    [EMAIL]: { type: "string", enum: [EMAIL, "other"] },
    contact: { const: PHONE },
    note: { type: "string", default: `call ${PHONE}`, examples: [{ [EMAIL]: CARD }], maxLength: 40 },
    code: { type: "string", pattern: "^jane\\.doe@hospital\\.example$|^x\\d+$" },
    // A property named "pattern" is a name, not a regular expression.
    pattern: { type: "string", description: "plain" },
  },
  required: [EMAIL, "contact"],
};

describe("schemaTexts", () => {
  it("lists every string of the schema, keys and values, patterns as the literal text they spell", () => {
    const texts = schemaTexts(schema);
    for (const text of [`Reply for ${EMAIL}`, `Card on file: ${CARD}`, EMAIL, PHONE, `call ${PHONE}`, CARD, "^jane.doe@hospital.example$|^x\\d+$", "pattern"]) {
      expect(texts).toContain(text);
    }
  });
});

describe("redactSchema", () => {
  it("puts the request's placeholders everywhere the schema held PII, and the result still compiles and validates", () => {
    const redactor = new Redactor();
    expect(redactor.redactText(`from ${EMAIL}`).text).toBe("from [EMAIL_1]");
    const redacted = redactSchema(schema, redactor);
    const text = JSON.stringify(redacted);
    for (const value of [EMAIL, CARD, PHONE, "jane\\\\.doe"]) expect(text).not.toContain(value);
    expect(redacted).toMatchObject({
      title: "Reply for [EMAIL_1]",
      description: "Card on file: [CARD_1]",
      properties: {
        "[EMAIL_1]": { type: "string", enum: ["[EMAIL_1]", "other"] },
        contact: { const: "[PHONE_1]" },
        note: { default: "call [PHONE_1]", examples: [{ "[EMAIL_1]": "[CARD_1]" }] },
        code: { pattern: "^\\[EMAIL_1\\]$|^x\\d+$" },
        pattern: { type: "string", description: "plain" },
      },
      required: ["[EMAIL_1]", "contact"],
    });
    // Placeholders are ASCII: the grammar compiles, and steers to what the redacted schema accepts.
    const grammar = compileJsonSchemaToGbnf(redacted).grammar;
    expect(grammar).toContain("[PHONE_1]");
    expect(grammar).not.toContain("+44");
    expect(parseStructuredOutput('{"[EMAIL_1]":"[EMAIL_1]","contact":"[PHONE_1]","note":"n","code":"[EMAIL_1]","pattern":""}', redacted)).toMatchObject({ ok: true });
  });

  it("leaves a schema without PII as it is", () => {
    const plain = { type: "object", properties: { a: { enum: ["x", "y"], pattern: "^\\d{3}-\\d{2}$" } } };
    expect(redactSchema(plain, new Redactor())).toEqual(plain);
  });
});
