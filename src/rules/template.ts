/**
 * The custom cache-key template language (`"${host}${path}?v=${query.v}"`): parsed once into
 * literal and placeholder parts, so the schema can refuse unknown placeholders and the key builder
 * never re-parses on the request path.
 */

export type TemplatePart = { kind: "literal"; text: string } | { kind: "host" | "path" | "method" } | { kind: "query" | "header" | "cookie"; name: string };

const SIMPLE = new Set(["host", "path", "method"]);
const NAMED = new Set(["query", "header", "cookie"]);

/** Parses a template, or returns the reason it is invalid. `$` not followed by `{` is literal. */
export function parseTemplate(template: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("${", i);
    if (open === -1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, open);
    const close = template.indexOf("}", open);
    if (close === -1) return `unterminated placeholder at offset ${open}`;
    const body = template.slice(open + 2, close);
    const dot = body.indexOf(".");
    const head = dot === -1 ? body : body.slice(0, dot);
    const name = dot === -1 ? "" : body.slice(dot + 1);
    let part: TemplatePart;
    if (dot === -1 && SIMPLE.has(head)) {
      part = { kind: head as "host" | "path" | "method" };
    } else if (dot !== -1 && NAMED.has(head) && name !== "") {
      // Header names are case-insensitive, so they are matched lower-cased; query and cookie names are not.
      part = { kind: head as "query" | "header" | "cookie", name: head === "header" ? name.toLowerCase() : name };
    } else {
      return `unknown placeholder \${${body}} (use \${host}, \${path}, \${method}, \${query.NAME}, \${header.NAME} or \${cookie.NAME})`;
    }
    if (literal !== "") parts.push({ kind: "literal", text: literal });
    literal = "";
    parts.push(part);
    i = close + 1;
  }
  if (literal !== "") parts.push({ kind: "literal", text: literal });
  return parts;
}
