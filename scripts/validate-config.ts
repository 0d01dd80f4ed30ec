/**
 * Validates a config document file (`npx tsx scripts/validate-config.ts config/default.json`):
 * prints every error as `path: message` and exits 1 when there is any; the CLI imports
 * `validateConfigFile` to do the same before uploading a config.
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { printParseErrorCode, visit } from "jsonc-parser";
import { parseConfig, type ConfigError } from "../src/config/document";

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Where a JSON text first goes wrong, as `line L, column C` (1-based, as editors count). JSON.parse
 * names at best a character offset, and on Node 20 often not even that; jsonc-parser's scanner
 * (strict: no comments, no trailing commas) reports the line and column of its first error.
 */
export function jsonSyntaxError(text: string, fallback: string): string {
  let first: string | null = null;
  visit(
    text,
    {
      onError: (code, _offset, _length, line, column) => {
        first ??= `line ${line + 1}, column ${column + 1}: ${printParseErrorCode(code)}`;
      },
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  return first ?? fallback;
}

/** JSON.parse, with a syntax error reported as `not valid JSON at line L, column C: …`. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `not valid JSON at ${jsonSyntaxError(text, reason(error))}` };
  }
}

/** Reads, JSON-parses and validates a config file; unreadable or non-JSON files are errors too, never exceptions. */
export async function validateConfigFile(path: string): Promise<{ ok: boolean; errors: ConfigError[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { ok: false, errors: [{ path: "(root)", message: `cannot read ${path}: ${reason(error)}` }] };
  }
  const json = parseJsonText(text);
  if (!json.ok) return { ok: false, errors: [{ path: "(root)", message: json.message }] };
  const parsed = parseConfig(json.value);
  return parsed.ok ? { ok: true, errors: [] } : { ok: false, errors: parsed.error };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0) {
    console.error("usage: validate-config <config.json>...");
    return 2;
  }
  let failed = false;
  for (const file of argv) {
    const result = await validateConfigFile(file);
    // Prefix with the file name only when several files are checked, so single-file output stays `path: message`.
    const prefix = argv.length > 1 ? `${file}: ` : "";
    for (const error of result.errors) console.error(`${prefix}${error.path}: ${error.message}`);
    if (result.ok) console.log(`${file}: valid`);
    failed ||= !result.ok;
  }
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
