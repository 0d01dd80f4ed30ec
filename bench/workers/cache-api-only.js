// The contrast for `npm run simulate`: a plain "Cache API only" worker, as many sites write it.
// caches.default match → else fetch the origin → put. Nothing collapses concurrent misses, and each
// data centre has its own cache. (Miniflare shares one Cache API store between the workers of an
// instance, so the simulation gives each simulated data centre its own named cache via CACHE_NAME;
// in production that is simply caches.default of that data centre.)
export default {
  async fetch(request, env, ctx) {
    const cache = env.CACHE_NAME ? await caches.open(env.CACHE_NAME) : caches.default;
    const hit = await cache.match(request);
    if (hit) return hit;
    const url = new URL(request.url);
    const upstream = await fetch(env.ORIGIN_URL + url.pathname + url.search);
    const response = new Response(upstream.body, upstream);
    if (response.ok) ctx.waitUntil(cache.put(request, response.clone()));
    return response;
  },
};
