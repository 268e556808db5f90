import { isIPv4, isIPv6 } from "node:net";
import type { Detector, Finding } from "../interface.js";

/** IPv4 dotted quads (not inside a longer dotted number such as an OID) and IPv6 addresses as Node parses them. */
export const ipDetector: Detector = {
  kinds: ["ipv4", "ipv6"],
  find(text, options) {
    const findings: Finding[] = [];
    if (options.kinds.includes("ipv4")) {
      const v4 = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)/g;
      for (let m = v4.exec(text); m; m = v4.exec(text)) {
        if (isIPv4(m[0])) findings.push({ kind: "ipv4", start: m.index, end: m.index + m[0].length, validated: true });
      }
    }
    if (options.kinds.includes("ipv6")) {
      const v6 = /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?![0-9A-Za-z:])/g;
      for (let m = v6.exec(text); m; m = v6.exec(text)) {
        // "::1", "a::b" and the like carry no address worth hiding and are common in code (std::, a::b).
        const hexDigits = m[0].replace(/[^0-9A-Fa-f]/g, "").length;
        if (hexDigits >= 4 && isIPv6(m[0])) findings.push({ kind: "ipv6", start: m.index, end: m.index + m[0].length, validated: true });
      }
    }
    return findings;
  },
};
