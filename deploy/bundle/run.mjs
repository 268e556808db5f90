/**
 * Child processes for the build. Their output goes to the build log, not the terminal (npm and tsc would drown
 * the progress display); on failure the log's tail is put into the error.
 */
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";

export class BuildError extends Error {}

export function createLog(path) {
  return {
    path,
    write(text) {
      appendFileSync(path, text);
    },
    tail(lines = 40) {
      try {
        return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
}

/** Resolves with stdout (also logged); rejects with the log's tail when the command fails. */
export function run(log, command, args, { cwd, env, onLine } = {}) {
  log.write(`\n$ ${command} ${args.join(" ")}${cwd ? `   (in ${cwd})` : ""}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    let partial = "";
    const collect = (keep) => (chunk) => {
      log.write(chunk);
      if (keep) out.push(chunk);
      if (onLine) {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) onLine(line);
      }
    };
    child.stdout.on("data", collect(true));
    child.stderr.on("data", collect(false));
    child.once("error", (error) => reject(new BuildError(`${command}: ${error.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new BuildError(`${command} ${args.join(" ")} exited with ${code ?? signal}; the end of ${log.path}:\n${log.tail()}`));
    });
  });
}
