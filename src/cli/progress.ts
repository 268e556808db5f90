/** A one-line progress display on stderr: redrawn in place on a terminal, every 10 % otherwise (CI logs). */
export interface Progress {
  update(done: number, total: number): void;
  finish(message: string): void;
}

/** What is counted: bytes (hashing a model file) print as KiB, MiB…; anything else as a plain count of it. */
export type ProgressUnit = "bytes" | "entries";

function ratio(done: number, total: number, unit: ProgressUnit): string {
  return unit === "bytes" ? `${human(done)}/${human(total)}` : `${done}/${total} ${unit}`;
}

function human(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function createProgress(label: string, unit: ProgressUnit = "bytes", stream: NodeJS.WriteStream = process.stderr): Progress {
  const width = 30;
  let lastDecile = -1;
  let lastDraw = 0;
  return {
    update(done, total) {
      const fraction = total === 0 ? 1 : Math.min(1, done / total);
      if (stream.isTTY) {
        const now = Date.now();
        if (now - lastDraw < 100 && fraction < 1) return;
        lastDraw = now;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${ratio(done, total, unit)}`);
      } else {
        const decile = Math.floor(fraction * 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        stream.write(`${label} ${decile * 10}% (${ratio(done, total, unit)})\n`);
      }
    },
    finish(message) {
      stream.write(`${stream.isTTY ? "\r\x1b[K" : ""}${label} ${message}\n`);
    },
  };
}
