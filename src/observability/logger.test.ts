import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function captured() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

describe("createLogger", () => {
  it("writes detected PII as placeholders, wherever in the line it is", async () => {
    const { lines, logger } = captured();
    logger.child({ patient: "jane.doe@hospital.example" }).warn({ card: "4111 1111 1111 1111", nested: { iban: "DE89 3704 0044 0532 0130 00" } }, "write to jane.doe@hospital.example");
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(lines.join(""));
    expect(line).toMatchObject({ patient: "[EMAIL_1]", card: "[CARD_1]", nested: { iban: "[IBAN_1]" }, msg: "write to [EMAIL_1]" });
    expect(lines.join("")).not.toMatch(/jane\.doe|4111 1111|DE89/);
  });

  it("leaves the operator's own metadata as it was: ids, hashes, times, addresses", async () => {
    const { lines, logger } = captured();
    const fields = {
      requestId: "01a21870-1635-7f12-9161-215c9b6885fe",
      sha256: "ab".repeat(32),
      keyId: "0123456789abcdef",
      url: "http://127.0.0.1:8080",
      sourceAddress: "10.1.2.3",
      ms: 12.34,
      path: "/v1/chat/completions",
    };
    logger.info(fields, "request");
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(lines.join(""))).toMatchObject({ ...fields, msg: "request", level: "info" });
  });
});
