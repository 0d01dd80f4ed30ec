/**
 * Cache keys: the primary key under which a response is stored. The default key is the scheme,
 * host, path and the query parameters in a stable order, so `?b=1&a=2` and `?a=2&b=1` share an entry.
 */

/** The default primary cache key for a request URL. */
export function defaultCacheKey(url: URL): string {
  const params = [...url.searchParams].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const query = params.length === 0 ? "" : "?" + new URLSearchParams(params).toString();
  return `${url.protocol}//${url.host}${url.pathname}${query}`;
}
