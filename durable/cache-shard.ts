import { DurableObject } from "cloudflare:workers";
export class CacheShard extends DurableObject {
  async handle(request: Request, ctx: { key: string }): Promise<Response> {
    const url = new URL(request.url);
    const env = this.env as { ORIGIN_URL: string };
    const r = await fetch(env.ORIGIN_URL + url.pathname + url.search);
    const { readable, writable } = new TransformStream();
    void r.body!.pipeTo(writable);
    return new Response(readable, { status: r.status, headers: { "x-key": ctx.key, "x-h": request.headers.get("x-h") ?? "" } });
  }
}
