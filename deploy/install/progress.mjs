/**
 * Progress for long steps (building, hashing, copying hundreds of megabytes). On a terminal one line redraws in
 * place; into a file or a pipe (CI logs, tests) only each step's start and end are written, so logs stay readable.
 */
const MB = 1024 * 1024;

export function formatBytes(bytes) {
  if (bytes >= 1024 * MB) return `${(bytes / 1024 / MB).toFixed(2)} GiB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatSeconds(ms) {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)} m ${((ms % 60_000) / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function createProgress({ stream = process.stderr, name, total } = {}) {
  const tty = Boolean(stream.isTTY) && process.env.CI === undefined;
  let index = 0;
  const prefix = name ? `${name}: ` : "";

  /** One step: `update(done, total)` for byte counts, `note(text)` for what it is doing now. */
  function step(label) {
    index += 1;
    const head = total ? `[${index}/${total}] ${label}` : label;
    const started = performance.now();
    let last = 0;
    let detail = "";
    let timer;
    const draw = () => {
      const elapsed = formatSeconds(performance.now() - started);
      stream.write(`\r\x1b[2K${prefix}${head} ${detail} ${elapsed}`);
    };
    if (tty) {
      draw();
      timer = setInterval(draw, 500);
      timer.unref();
    } else {
      stream.write(`${prefix}${head} ...\n`);
    }
    const end = (mark, note) => {
      clearInterval(timer);
      const elapsed = formatSeconds(performance.now() - started);
      const line = `${prefix}${head}: ${mark}${note ? ` (${note})` : ""}, ${elapsed}`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
      return performance.now() - started;
    };
    return {
      update(done, all) {
        const now = performance.now();
        if (!tty || (now - last < 100 && done < all)) return;
        last = now;
        const fraction = all > 0 ? Math.min(1, done / all) : 1;
        const width = 24;
        const filled = Math.round(fraction * width);
        detail = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0)}% ${formatBytes(done)}/${formatBytes(all)}`;
        draw();
      },
      note(text) {
        detail = text;
        if (tty) draw();
      },
      done: (note) => end("done", note),
      fail: (note) => end("FAILED", note),
    };
  }

  return { step, line: (text) => stream.write(`${prefix}${text}\n`) };
}
