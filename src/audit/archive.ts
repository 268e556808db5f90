import { createHash } from "node:crypto";
import type { Pool } from "pg";
import { TAR_END, tarHeader, tarPadding } from "../util/tar.js";
import type { NoteVerifier } from "./core/checkpoint.js";
import type { SigningKey } from "./core/keys.js";
import { planExport, sha256Hex, signManifest, type ExportRange, type ExportShortfall } from "./store/exporter.js";
import { AuditLogReader } from "./store/reader.js";
import { ENTRIES_FILE, EXPORT_FORMAT, MANIFEST_FILE, type ExportManifest, type ListedFile } from "./verify/export-format.js";

export type AuditArchiveRequest = ExportRange;

export interface AuditArchive {
  from: number;
  to: number;
  /** Present when the archive ends before the `to` asked for, at the largest signed tree below it. */
  shortOf?: ExportShortfall;
  /** Exact size of the tar stream, known before the first byte so the response can carry Content-Length. */
  bytes: number;
  chunks: AsyncIterable<Buffer>;
}

const tarSize = (size: number) => 512 + size + tarPadding(size).length;

/**
 * An export as one tar stream holding exactly the files `atomic audit export` writes, for auditors who fetch it
 * over HTTP. The entries are streamed page by page, never held whole; the manifest, which lists their digest,
 * comes last. Its length is fixed by its shape (hex digests, ISO time, 64-byte signature), so a placeholder
 * signed up front gives the archive's exact size. `retiredKeys` verify the checkpoints stored before a key rotation.
 */
export async function exportArchive(pool: Pool, key: SigningKey, request: AuditArchiveRequest, retiredKeys: readonly NoteVerifier[] = []): Promise<AuditArchive> {
  const reader = new AuditLogReader(pool);
  const plan = await planExport(reader, key, request, retiredKeys);
  const entriesBytes = await reader.linesByteLength(plan.from, plan.to);
  const createdAt = new Date();
  const manifestFor = (files: Record<string, string>): ExportManifest => ({
    format: EXPORT_FORMAT, origin: plan.origin, from: plan.from, to: plan.to, files: files as ExportManifest["files"], createdAt: createdAt.toISOString(),
  });
  const placeholder: Record<string, string> = { [ENTRIES_FILE]: "0".repeat(64) };
  for (const [name] of plan.smallFiles) placeholder[name] = "0".repeat(64);
  const manifestBytes = Buffer.byteLength(await signManifest(key, manifestFor(placeholder)));
  const bytes = tarSize(entriesBytes) + plan.smallFiles.reduce((n, [, b]) => n + tarSize(b.length), 0) + tarSize(manifestBytes) + TAR_END.length;

  async function* chunks(): AsyncGenerator<Buffer> {
    const files: Partial<Record<ListedFile, string>> = {};
    const digest = createHash("sha256");
    let written = 0;
    yield tarHeader(ENTRIES_FILE, entriesBytes, createdAt);
    for await (const page of plan.entries()) {
      digest.update(page.lines);
      written += page.lines.length;
      yield page.lines;
    }
    // The log is append-only, so a mismatch means it changed under the export: stop rather than send a bad archive.
    if (written !== entriesBytes) throw new Error(`audit entries changed during export (${written} bytes, expected ${entriesBytes})`);
    yield tarPadding(entriesBytes);
    files[ENTRIES_FILE] = digest.digest("hex");
    for (const [name, content] of plan.smallFiles) {
      files[name] = sha256Hex(content);
      yield Buffer.concat([tarHeader(name, content.length, createdAt), content, tarPadding(content.length)]);
    }
    const manifest = Buffer.from(await signManifest(key, manifestFor(files)), "utf8");
    if (manifest.length !== manifestBytes) throw new Error("audit manifest length differs from its placeholder");
    yield Buffer.concat([tarHeader(MANIFEST_FILE, manifest.length, createdAt), manifest, tarPadding(manifest.length), TAR_END]);
  }

  return { from: plan.from, to: plan.to, ...(plan.shortOf === undefined ? {} : { shortOf: plan.shortOf }), bytes, chunks: chunks() };
}
