import { dniValid, nirValid } from "../checksums.js";
import type { Detector, Finding } from "../interface.js";

/**
 * Identifiers with letters in them, matched by their fixed shapes: the French NIR (15 characters, optionally spaced
 * as 1 85 05 78 006 084 36, key mod 97) and the Spanish DNI/NIE (12345678Z, X1234567L, letter mod 23).
 */
export const nationalIdDetector: Detector = {
  kinds: ["fr_nir", "es_dni"],
  find(text, options) {
    const findings: Finding[] = [];
    if (options.kinds.includes("fr_nir")) {
      const nir = /(?<![0-9A-Za-z])[1-478] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}(?![0-9A-Za-z])/g;
      for (let m = nir.exec(text); m; m = nir.exec(text)) {
        if (nirValid(m[0].replace(/ /g, "").toUpperCase())) findings.push({ kind: "fr_nir", start: m.index, end: m.index + m[0].length, validated: true });
      }
    }
    if (options.kinds.includes("es_dni")) {
      const dni = /(?<![0-9A-Za-z])(?:[XYZxyz]-?\d{7}|\d{8})-?[A-Za-z](?![0-9A-Za-z])/g;
      for (let m = dni.exec(text); m; m = dni.exec(text)) {
        if (dniValid(m[0].replace(/-/g, "").toUpperCase())) findings.push({ kind: "es_dni", start: m.index, end: m.index + m[0].length, validated: true });
      }
    }
    return findings;
  },
};
