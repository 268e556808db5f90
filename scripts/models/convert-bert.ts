import { convertBertToGguf } from "../../src/models/convert/bert.js";

/** Converts the sentence-transformers checkpoint unpacked in `folder` into the GGUF at `destination`. */
export async function convertBertCheckpoint(folder: string, destination: string, meta: { name: string; licence: string }): Promise<void> {
  convertBertToGguf({ modelDir: folder, name: meta.name, license: meta.licence, outputPath: destination });
}
