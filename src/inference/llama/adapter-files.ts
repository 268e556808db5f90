import { closeSync } from "node:fs";
import { NotARegularFileError, openRegularFile, sha256OfDescriptor } from "../../models/digest.js";
import { findAdapterProblems } from "../../models/adapters/validate.js";
import { GgufFormatError, readGgufHeaderFromFd, type GgufHeader } from "../../models/gguf/reader.js";

/** What a request names: the adapter file and the digest the manifest pins. */
export interface AdapterSpec {
  id: string;
  path: string;
  sha256: string;
}

export class AdapterRefusal extends Error {
  constructor(readonly code: "adapter_file_missing" | "adapter_digest_mismatch" | "adapter_malformed", message: string) {
    super(message);
  }
}

/**
 * Verified adapter files of one model host, by digest. An adapter is hashed and checked against the base model on
 * the very descriptor llama.cpp then reads through /proc/self/fd (as models are), so the file cannot be swapped
 * between the check and the load. The descriptor stays open for the host's life: node-llama-cpp 3.21.1 caches a
 * loaded LoRA by path until the model is disposed, and a closed descriptor's number — its path — could be reused
 * for another file, which the cache would then answer with the first adapter's weights.
 */
export class VerifiedAdapters {
  private readonly byDigest = new Map<string, Promise<string>>();

  constructor(private readonly base: GgufHeader) {}

  /** The path llama.cpp should load the adapter from, once its digest and header are checked. */
  pathFor(spec: AdapterSpec): Promise<string> {
    let verified = this.byDigest.get(spec.sha256);
    if (!verified) {
      verified = this.verify(spec);
      this.byDigest.set(spec.sha256, verified);
      // A refusal is not remembered: the operator may put the right file back.
      verified.catch(() => this.byDigest.delete(spec.sha256));
    }
    return verified;
  }

  get size(): number {
    return this.byDigest.size;
  }

  private async verify(spec: AdapterSpec): Promise<string> {
    let fd: number;
    try {
      fd = openRegularFile(spec.path);
    } catch (error) {
      if (error instanceof NotARegularFileError) throw new AdapterRefusal("adapter_malformed", `adapter ${spec.id}: ${error.message}`);
      throw new AdapterRefusal("adapter_file_missing", `adapter ${spec.id}: cannot open ${spec.path}: ${(error as Error).message}`);
    }
    try {
      const digest = await sha256OfDescriptor(fd);
      if (digest !== spec.sha256) {
        throw new AdapterRefusal("adapter_digest_mismatch", `adapter ${spec.id}: SHA-256 of ${spec.path} is ${digest}, the manifest pins ${spec.sha256}`);
      }
      let problems: string[];
      try {
        problems = findAdapterProblems(readGgufHeaderFromFd(fd), this.base);
      } catch (error) {
        if (error instanceof GgufFormatError) throw new AdapterRefusal("adapter_malformed", `adapter ${spec.id}: malformed GGUF: ${error.message}`);
        throw error;
      }
      if (problems.length > 0) throw new AdapterRefusal("adapter_malformed", `adapter ${spec.id} does not fit this model: ${problems.join("; ")}`);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return process.platform === "linux" ? `/proc/self/fd/${fd}` : spec.path;
  }
}
