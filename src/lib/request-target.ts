/**
 * The one normalisation of the request target. Rule matching, rate-class contexts, the admin prefix
 * check, the cache key and the request sent to the origin all see this form, so no encoding can make
 * a request escape a rule (`/%61dmin/x` is `/admin/x`), share another request's entry, or reach the
 * origin as something the cache did not decide on.
 *
 * RFC 3986 §6.2.2, on the path:
 * - §6.2.2.2: percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded; §6.2.2.1: the
 *   hex digits of every other percent-encoding are upper-cased (`%2f` → `%2F`). Decoding happens once:
 *   `%2561` stays `%2561` (it means the text "%61").
 * - §6.2.2.3: dot segments are removed (`/a/./b/../c` → `/a/c`), after decoding, so `%2E%2E` counts.
 *
 * Decisions beyond the RFC (docs: README "Security model"):
 * - `%2F` stays encoded: it is data inside one segment, not a separator (`/a%2Fb` does not match
 *   `/a/**`), and the origin receives it encoded, as the client sent it.
 * - Runs of slashes are merged (`//_shardcache/x` → `/_shardcache/x`), as most origin servers do
 *   (nginx's default `merge_slashes on`), so an empty segment cannot tell two requests apart for the
 *   cache while the origin reads them as one.
 * - A `?` with nothing after it is no query (`/a?` → `/a`); the query itself is left as sent (the
 *   cache key reads it through URLSearchParams, which decodes every parameter).
 * - A `%` not followed by two hex digits is data, and is written `%25`. Left bare, it could pair with the
 *   characters a decoding brings next to it: `/%6%31dmin` would become `/%61dmin`, which the origin reads
 *   as `/admin` while the rules saw a segment `%61dmin`, and `/%2%45%2E/` would become a `..` segment
 *   for the origin alone. With every `%` starting a complete encoding, decoding can form no new one, so
 *   the normal form is a fixed point (normalising it again changes nothing: a property test holds it).
 * Paths stay case-sensitive (RFC 3986 §6.2.2.1); the admin prefix check alone ignores case.
 */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** A complete percent-encoding (group 1: its hex digits), or a `%` that starts none (no group). */
const PERCENT_SIGN = /%([0-9A-Fa-f]{2})?/g;
/** Anything that the steps below could change: a percent sign, a run of slashes, a dot segment. */
const NEEDS_WORK = /%|\/\/|\/\.\.?(?:\/|$)/;

function normaliseEncoding(_match: string, hex: string | undefined): string {
  if (hex === undefined) return "%25";
  const char = String.fromCharCode(Number.parseInt(hex, 16));
  return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
}

/** RFC 3986 §5.2.4 remove_dot_segments for an absolute path (one that starts with "/"). */
function removeDotSegments(path: string): string {
  const input = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < input.length; i++) {
    const segment = input[i]!;
    const last = i === input.length - 1;
    if (segment === "." || segment === "..") {
      if (segment === "..") out.pop();
      // "/a/." and "/a/b/.." name a directory: keep the trailing slash.
      if (last) out.push("");
      continue;
    }
    out.push(segment);
  }
  return `/${out.join("/")}`;
}

/** The normalised form of an absolute path (see the module comment). Returns `path` itself when nothing changes. */
export function normalisePath(path: string): string {
  if (!NEEDS_WORK.test(path)) return path;
  const decoded = path.includes("%") ? path.replace(PERCENT_SIGN, normaliseEncoding) : path;
  return removeDotSegments(decoded.replace(/\/{2,}/g, "/"));
}

/**
 * Where the path of an absolute URL string starts and ends (end = the `?` or the string's end),
 * found without parsing all of it, because this runs on every request.
 */
function pathBounds(url: string): { start: number; end: number } {
  const authority = url.indexOf("//");
  let start = url.indexOf("/", authority < 0 ? 0 : authority + 2);
  if (start < 0) start = url.length;
  let end = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  if (end < 0 || (hash >= 0 && hash < end)) end = hash < 0 ? url.length : hash;
  return { start, end };
}

/** The path of an absolute URL string as it stands (normalise the URL first). */
export function pathOf(url: string): string {
  const { start, end } = pathBounds(url);
  return start === end ? "/" : url.slice(start, end);
}

/**
 * The request URL with its target normalised (fragment dropped: it is never part of a request).
 * Returns `url` itself when it is already in normal form, so the common case allocates nothing.
 */
export function normaliseRequestUrl(url: string): string {
  const { start, end } = pathBounds(url);
  const path = url.slice(start, end);
  const normal = path === "" ? "/" : normalisePath(path);
  let rest = url.slice(end);
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  if (rest === "?") rest = "";
  if (normal === path && rest.length === url.length - end) return url;
  return url.slice(0, start) + normal + rest;
}
