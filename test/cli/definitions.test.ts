import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";

/** Every command under `command`, each with its path of names from the top (`["models", "adapter", "fit"]`). */
function commandsOf(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return command.commands.flatMap((sub) => [{ path: [...path, sub.name()], command: sub }, ...commandsOf(sub, [...path, sub.name()])]);
}

const leaves = () => commandsOf(buildProgram()).filter(({ command }) => command.commands.length === 0);

describe("the command line's definitions", () => {
  it("declare every command Atomic has", () => {
    expect(leaves().map(({ path }) => path.join(" "))).toEqual([
      "serve", "migrate", "worker",
      "models add", "models test-model", "models verify", "models list", "models unload", "models load", "models add-adapter", "models adapters",
      "models adapter promote", "models adapter rollback", "models adapter fit",
      "apikeys create", "apikeys list", "apikeys revoke",
      "policy check", "policy test",
      "keys generate", "keys rotate",
      "audit export", "audit verify", "audit verify-receipt", "audit verify-consistency", "audit key",
      "bidding train",
      "erase",
    ]);
  });

  it("document every command, argument and option, and the help shows each", () => {
    for (const { path, command } of commandsOf(buildProgram())) {
      const help = command.helpInformation();
      expect(help, path.join(" ")).toMatch(new RegExp(`^Usage: atomic ${path.join(" ")} `));
      expect(command.description(), path.join(" ")).not.toBe("");
      for (const argument of command.registeredArguments) {
        expect(argument.description, `${path.join(" ")} ${argument.name()}`).not.toBe("");
      }
      // --config is hidden on each command: the help shows it once, among the global options.
      for (const option of command.options.filter((o) => !o.hidden)) {
        expect(option.description, `${path.join(" ")} ${option.flags}`).not.toBe("");
        expect(help, path.join(" ")).toContain(option.flags);
      }
      expect(help, path.join(" ")).toContain("--config <file>");
    }
  });

  it("load no command's module to read the command line or print help", () => {
    // The static imports reachable from the entry point: `import type` is erased, and each command's module is
    // loaded with import() only when it runs. llama.cpp, Temporal and the database stay out of `atomic --help`.
    const files = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (files.has(file)) return;
      files.add(file);
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?["']([^"']+)["']/gm)) {
        if (specifier!.startsWith(".")) visit(resolve(dirname(file), specifier!.replace(/\.js$/, ".ts")));
        else packages.add(specifier!.replace(/^node:.*/, "node:"));
      }
    };
    visit(resolve("src/cli/main.ts"));
    const loaded = [...files].map((file) => relative(resolve("src"), file));
    expect(loaded).toContain("cli/definitions/worker.ts");
    expect(loaded.filter((file) => /^(cli\/commands|gateway|inference|bootstrap|store|audit)\//.test(file))).toEqual([]);
    expect([...packages].sort()).toEqual(["commander", "node:", "zod"]);
  });
});
