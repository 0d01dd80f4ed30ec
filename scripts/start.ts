/**
 * `npm start`: the whole cache on this machine, no Cloudflare account needed. Starts the demo origin
 * (unless ORIGIN_URL names another origin), validates and seeds the config into local KV (a file
 * with errors is refused, every error listed as `path: message`), runs the worker
 * on workerd through wrangler's dev server, prints where to point curl, and stops everything on Ctrl-C.
 *
 * Environment: PORT (cache, default 8787), ORIGIN_PORT (demo origin, default 8788),
 * ORIGIN_URL (use this origin instead of the demo one), CONFIG (config file, default config/default.json),
 * ADMIN_TOKEN (admin API token, default "dev-admin-token"). It sets SHARDCACHE_LOCAL_DEV=true, the
 * one place the admin API accepts that published (or any short) token. INSPECT=1 (or a port) opens the
 * devtools inspector, which is off by default.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin";
import { unstable_startWorker } from "wrangler";
import { validateConfigFile } from "./validate-config";
import { DEV_ADMIN_TOKEN } from "../src/lib/dev-token";
import { buildUiAssets } from "./build-ui";

const host = "127.0.0.1";
const port = Number(process.env.PORT ?? 8787);
const originPort = Number(process.env.ORIGIN_PORT ?? 8788);
const configFile = process.env.CONFIG ?? "config/default.json";
const adminToken = process.env.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

// No usage metrics, and no fetch of the `request.cf` object from Cloudflare (this machine may be offline):
// for the wrangler CLI this spawns and for the dev server started in this process.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

function runWrangler(args: string[]): ChildProcess {
  return spawn(process.execPath, [wranglerBin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

async function seedConfig(): Promise<void> {
  if (!existsSync(configFile)) {
    console.log(`(no ${configFile}: the cache runs on built-in defaults)`);
    return;
  }
  // KV takes any text; a document the worker would refuse is refused here, with every error.
  const checked = await validateConfigFile(configFile);
  if (!checked.ok) throw new Error(`${configFile} is not a valid config (${checked.errors.length} error${checked.errors.length === 1 ? "" : "s"}); nothing was started:\n${checked.errors.map((e) => `  ${e.path}: ${e.message}`).join("\n")}`);
  const child = runWrangler(["kv", "key", "put", "config", "--path", configFile, "--binding", "CONFIG", "--local"]);
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`could not seed ${configFile} into local KV:\n${output}`);
  console.log(`config: ${configFile} seeded into local KV (key "config")`);
}

/** `INSPECT=1` (or a port number) opens workerd's devtools inspector; by default nothing listens on 9229. */
function inspectorOption(): { hostname: string; port: number } | false {
  const asked = process.env.INSPECT;
  if (asked === undefined || asked === "" || asked === "0") return false;
  return { hostname: host, port: /^\d+$/.test(asked) && asked !== "1" ? Number(asked) : 9229 };
}

const plain = (value: string) => ({ type: "plain_text" as const, value });

async function main(): Promise<void> {
  await seedConfig();
  let origin: DemoOrigin | null = null;
  let originUrl = process.env.ORIGIN_URL;
  if (originUrl === undefined) {
    origin = await startDemoOrigin(originPort, host);
    originUrl = origin.url;
  }
  await buildUiAssets();
  // wrangler's programmatic dev server rather than the `wrangler dev` CLI: only it can turn the
  // inspector off (the CLI always opens one, on 9229), and `ready` replaces polling for the port.
  const inspector = inspectorOption();
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings: { ORIGIN_URL: plain(originUrl), ADMIN_TOKEN: plain(adminToken), SHARDCACHE_LOCAL_DEV: plain("true"), CONFIG_MEMO_MS: plain("1000") },
    dev: { server: { hostname: host, port }, inspector, logLevel: "warn", testScheduled: true, watch: false },
  });
  await worker.ready;

  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    if (cronTimer !== undefined) clearInterval(cronTimer);
    void worker
      .dispose()
      .catch(() => {})
      .then(() => origin?.close())
      .then(() => process.exit(code));
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));

  console.log(`
shardcache is running
  cache:       http://${host}:${port}/        (try: curl -i http://${host}:${port}/hello?size=2048)
  origin:      ${originUrl}${origin ? "   (demo origin; GET /__stats, POST /__reset)" : ""}
  admin API:   http://${host}:${port}/_shardcache/  (Authorization: Bearer ${adminToken})
  inspector:   ${inspector === false ? "off (INSPECT=1 npm start opens it on 9229)" : `ws://${inspector.hostname}:${inspector.port}`}
Press Ctrl-C to stop.`);
  startCron(`http://${host}:${port}`);
}

/** How often the local cron fires, as the deployed `* * * * *` trigger would. */
const CRON_EVERY_MS = 60_000;
let cronTimer: ReturnType<typeof setInterval> | undefined;

/**
 * wrangler dev does not fire cron triggers by itself; it exposes /__scheduled (--test-scheduled)
 * instead. Call it now and every minute, so health monitors and SLM classes work under npm start.
 */
function startCron(base: string): void {
  // Read the answer to its end: cancelling the body (as this did) closed the socket while workerd was
  // still writing, and workerd printed a red "Broken pipe" error block at every cron tick.
  const fire = () =>
    void fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`, { signal: AbortSignal.timeout(30_000) })
      .then((r) => r.text())
      .catch(() => {});
  fire();
  cronTimer = setInterval(fire, CRON_EVERY_MS);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
