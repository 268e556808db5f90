import { describe, expect, it } from "vitest";
import { detectPii } from "./detect.js";
import type { PiiDetector } from "./interface.js";
import { Redactor } from "./redact.js";
import { RequestPiiScan } from "./request-scan.js";

describe("RequestPiiScan", () => {
  it("scans each distinct text once, and finds what detectPii finds", () => {
    const scanned: string[] = [];
    const counting: PiiDetector = { detect: (text, options) => (scanned.push(text), detectPii(text, options)) };
    const scan = new RequestPiiScan(counting);
    const text = "Write to maria.lopez@example.org today.";
    expect(scan.detect(text)).toEqual(detectPii(text));
    const redactor = new Redactor({ detector: scan });
    expect(redactor.redactText(text).text).toBe("Write to [EMAIL_1] today.");
    expect(scan.detect("no pii here")).toEqual([]);
    expect(scanned).toEqual([text, "no pii here"]);
  });

  it("does not remember calls with options of their own", () => {
    const scanned: string[] = [];
    const scan = new RequestPiiScan({ detect: (text, options) => (scanned.push(text), detectPii(text, options)) });
    scan.detect("+44 20 7946 0958", { phoneRegions: ["GB"] });
    scan.detect("+44 20 7946 0958", { phoneRegions: ["GB"] });
    expect(scanned).toHaveLength(2);
  });
});
