/**
 * What the rules, the cache key and the RFC 9111 policy read of a request's fields: `get` and `has`
 * only. A `Headers` is one; the edge hands them src/edge/request-fields.ts, which answers for absent
 * fields without calling into the runtime.
 */
export type FieldReader = Pick<Headers, "get" | "has">;
