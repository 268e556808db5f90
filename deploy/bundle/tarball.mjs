/**
 * The tarball: GNU tar in name order with root ownership and one timestamp (what is inside does not depend on who
 * built it or when), gzip-compressed by Node so that the bytes written can drive the progress display.
 */
import { spawn } from "node:child_process";
import { createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { BuildError } from "./run.mjs";

export async function writeTarball({ parent, name, outFile, mtime, totalBytes, onProgress }) {
  const partial = `${outFile}.partial`;
  const tar = spawn("tar", [
    "--create", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", `--mtime=@${mtime}`,
    "--format=gnu", "-C", parent, "-f", "-", name,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const errors = [];
  tar.stderr.on("data", (chunk) => errors.push(chunk));
  const exited = new Promise((resolve) => tar.once("close", (code) => resolve(code)));
  let seen = 0;
  const counter = new Transform({
    transform(chunk, _encoding, callback) {
      seen += chunk.length;
      onProgress?.(Math.min(seen, totalBytes), totalBytes);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(tar.stdout, counter, createGzip({ level: 6 }), createWriteStream(partial));
    const code = await exited;
    if (code !== 0) throw new BuildError(`tar exited with ${code}: ${Buffer.concat(errors).toString("utf8")}`);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  renameSync(partial, outFile);
  return statSync(outFile).size;
}
