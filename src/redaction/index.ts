export { luhnValid, cardValid, ibanValid, nhsValid, steuerIdValid, nirValid, dniValid, ssnValid } from "./checksums.js";
export { DEFAULT_PHONE_REGIONS, detectPii, patternDetector } from "./detect.js";
export type { DetectOptions, Detector, Finding, PiiDetector } from "./interface.js";
export { redactJson } from "./json.js";
export { CHECKSUM_KINDS, PII_KINDS, PLACEHOLDER_LABELS, type PiiKind } from "./kinds.js";
export { piiSafeLoggerOptions, redactForLog, redactLogLine } from "./log.js";
export { redact, Redactor, type Redaction, type RedactOptions } from "./redact.js";
export { RequestPiiScan } from "./request-scan.js";
export { redactSchema, schemaTexts } from "./schema.js";
