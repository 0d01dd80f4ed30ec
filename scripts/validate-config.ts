/**
 * Validates a config document file (`npx tsx scripts/validate-config.ts config/default.json`):
 * prints every error as `path: message` and exits 1 when there is any; the CLI imports
 * `validateConfigFile` to do the same before uploading a config.
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { parseConfig, type ConfigError } from "../src/config/document";

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Reads, JSON-parses and validates a config file; unreadable or non-JSON files are errors too, never exceptions. */
export async function validateConfigFile(path: string): Promise<{ ok: boolean; errors: ConfigError[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { ok: false, errors: [{ path: "(root)", message: `cannot read ${path}: ${reason(error)}` }] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [{ path: "(root)", message: `not valid JSON: ${reason(error)}` }] };
  }
  const parsed = parseConfig(raw);
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
