/**
 * Writes config.schema.json at the repository root from the config document's zod schema, so
 * editors can validate and complete config files (run: `npx tsx scripts/gen-json-schema.ts`).
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as z from "zod";
import { configDocumentSchema } from "../src/config/document";

export const SCHEMA_PATH = fileURLToPath(new URL("../config.schema.json", import.meta.url));

/**
 * The JSON Schema of what may be written in a config file. `io: "input"` describes the accepted
 * input (fields with defaults are optional). Checks written as code — regex compilation, CIDR host
 * bits, template placeholders, unique rule names, references — cannot be expressed, so the schema
 * accepts a superset and `scripts/validate-config.ts` remains the authority.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configDocumentSchema, { io: "input", target: "draft-2020-12" }),
    $id: "https://shardcache.dev/config.schema.json",
    title: "shardcache config document",
  };
}

async function main(): Promise<void> {
  await writeFile(SCHEMA_PATH, JSON.stringify(configJsonSchema(), null, 2) + "\n");
  console.log(`wrote ${SCHEMA_PATH}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
