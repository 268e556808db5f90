import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTestModel } from "../../models/test-model.js";
import { currentDigest, LoadRefusal, openVerifiedModelFile, refuseIfChangedSince } from "./model-file.js";

const bytes = buildTestModel({ seed: 5 });
const sha256 = createHash("sha256").update(bytes).digest("hex");
const modelFile = (): string => {
  const path = join(mkdtempSync(join(tmpdir(), "atomic-model-file-")), "model.gguf");
  writeFileSync(path, bytes);
  return path;
};

const refusalOf = (act: () => unknown): LoadRefusal => {
  try {
    act();
  } catch (error) {
    if (error instanceof LoadRefusal) return error;
    throw error;
  }
  throw new Error("not refused");
};

describe("the model file a host verifies and loads", () => {
  it("is refused when written between its hash and the check after llama.cpp read it, even with the same bytes", async () => {
    const path = modelFile();
    const file = await openVerifiedModelFile(path, sha256);
    try {
      refuseIfChangedSince(file, path);
      const fd = openSync(path, "r+");
      writeSync(fd, bytes, 0, 4096, 0);
      closeSync(fd);
      const refusal = refusalOf(() => refuseIfChangedSince(file, path));
      expect(refusal.code).toBe("model_file_changed");
      expect(refusal.message).toContain("was written while it was verified and loaded");
    } finally {
      closeSync(file.fd);
    }
  });

  it("is refused when its bytes are not the pinned ones", async () => {
    const path = modelFile();
    await expect(openVerifiedModelFile(path, "0".repeat(64))).rejects.toMatchObject({ code: "model_digest_mismatch" });
  });

  it("is hashed as the path names it now, or null when it names nothing", async () => {
    const path = modelFile();
    expect(await currentDigest(path)).toBe(sha256);
    rmSync(path);
    expect(await currentDigest(path)).toBeNull();
  });
});
