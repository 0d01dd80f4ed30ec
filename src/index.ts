import { CacheShard } from "../durable/cache-shard";
export { CacheShard };
export interface Env { CACHE_SHARD: DurableObjectNamespace<CacheShard>; ORIGIN_URL: string }
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const stub = env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName("shard-0"));
    return stub.handle(request, { key: "k1" });
  },
} satisfies ExportedHandler<Env>;
