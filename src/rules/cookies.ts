/** Parsing the request Cookie header, shared by rule matching and cache keys so both read it the same way. */

/** Cookie header → name/value map; the first occurrence of a name wins (browsers send the most specific path first). */
export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === null) return cookies;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    // Values are compared raw (no unquoting or percent-decoding), exactly as the client sent them.
    if (name !== "" && !cookies.has(name)) cookies.set(name, pair.slice(eq + 1).trim());
  }
  return cookies;
}
