/**
 * `npm run test:browser`: the dashboard in real headless Chromium (Debian's `chromium` package,
 * driven by playwright-core through `executablePath`; nothing is downloaded) against `npm start`.
 * It logs in, sees the hit ratio and the charts, sends traffic and sees the numbers change, submits a
 * purge, checks that the page logged no error (a CSP violation included), and saves a screenshot.
 *
 * Environment: CHROMIUM (default /usr/bin/chromium), PORT / ORIGIN_PORT (default: free ports),
 * SCREENSHOT (default test-artifacts/dashboard.png). Prints one line per check and a closing
 * "N passed, N failed"; exits 1 when a check failed. Bounded: everything stops within ~3 minutes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { chromium, type Page } from "playwright-core";
import { freePort } from "./lib/free-port";

const ROOT = resolve(import.meta.dirname, "..");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOT = resolve(ROOT, process.env.SCREENSHOT ?? "test-artifacts/dashboard.png");
const TOKEN = "browser-test-token";
const DEADLINE_MS = 180_000;

const results: { name: string; ok: boolean; detail?: string }[] = [];
async function check(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
    results.push({ name, ok: true });
    console.log(`ok - ${name}`);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    results.push({ name, ok: false, detail });
    console.log(`not ok - ${name}: ${detail}`);
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Starts `npm start` on its own ports, with its own local state, and waits for "shardcache is running". */
async function startShardcache(port: number, originPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [resolve(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/start.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), ORIGIN_PORT: String(originPort), ADMIN_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not come up in 90 s:\n${output.slice(-2000)}`)), 90_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes("shardcache is running")) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`npm start exited (${code}):\n${output.slice(-2000)}`));
    });
  });
  return child;
}

function stop(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGTERM"); // the whole group: start.ts, wrangler, workerd
    } catch {
      // already gone
    }
  }
}

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? "").trim();

/** Polls `probe` (in Node, through the page API) until it returns true; the dashboard refreshes every 5 s. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
const number = (s: string) => Number(s.replace(/[^0-9.]/g, ""));

async function traffic(base: string, requests: number, urls: number): Promise<void> {
  for (let i = 0; i < requests; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, j) => (await fetch(`${base}/browser-test/${(i + j) % urls}?size=512`)).arrayBuffer()));
  }
}

async function main(): Promise<number> {
  assert(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  const port = Number(process.env.PORT ?? (await freePort()));
  const originPort = Number(process.env.ORIGIN_PORT ?? (await freePort()));
  const base = `http://127.0.0.1:${port}`;
  const server = await startShardcache(port, originPort);
  const killer = setTimeout(() => stop(server), DEADLINE_MS);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${base}/_shardcache/ui`);

    await check("a wrong token is refused at the login", async () => {
      await page.fill("#token", "wrong-token");
      await page.click("#login-form button");
      await until("the login error", async () => (await text(page, "#login-error")).length > 0, 10_000);
      assert((await text(page, "#login-error")).includes("refused"), `login error: ${await text(page, "#login-error")}`);
      assert(await page.isHidden("#app"), "the dashboard is visible without a valid token");
    });

    await check("logs in with the admin token and shows the dashboard", async () => {
      await page.fill("#token", TOKEN);
      await page.click("#login-form button");
      await page.waitForSelector("#app:not([hidden])", { timeout: 10_000 });
      await until("the first refresh", async () => ((await page.getAttribute("#live", "class")) ?? "").includes("ok"), 20_000);
      // The refused token's 401 above is the browser's one expected console error; from here on there must be none.
      problems.length = 0;
    });

    const before = number(await text(page, "#kpi-requests"));
    await check("sends traffic and sees the request count and hit ratio change", async () => {
      await traffic(base, 200, 10);
      await until("the request count to grow by 200", async () => number(await text(page, "#kpi-requests")) >= before + 200, 30_000);
      const ratio = await text(page, "#kpi-hit-ratio");
      assert(/^\d+(\.\d)? %$/.test(ratio), `hit ratio shows "${ratio}"`);
      // 200 requests over 10 URLs: at most 10 misses (each URL once, unless a copy expired).
      assert(number(ratio) >= 90, `hit ratio ${ratio} after 200 requests for 10 URLs`);
    });

    await check("draws both charts with data, and the outcome and shard panels", async () => {
      for (const chart of ["#chart-ratio", "#chart-origin"]) assert((await page.locator(`${chart} canvas`).count()) === 1, `${chart} has no canvas`);
      await until("outcome segments", async () => (await page.locator("#outcomes .seg").count()) >= 2, 15_000);
      assert((await page.locator("#shards .bar-row").count()) === 16, "not 16 shard rows");
      const legend = await text(page, "#chart-ratio .u-legend");
      assert(legend.includes("Hit ratio") && legend.includes("Requests/s"), `legend: ${legend}`);
    });

    await check("submits a purge from the form and sees its result", async () => {
      await page.selectOption("#purge-kind", "url");
      await page.fill("#purge-value", `${base}/browser-test/3?size=512`);
      await page.click("#purge-form button");
      await until("the purge result", async () => /Purged: \d|failed|Incomplete/.test(await text(page, "#purge-result")), 15_000);
      const result = await text(page, "#purge-result");
      assert(/Purged: 1 stored variant/.test(result), `purge result: ${result}`);
      const after = await fetch(`${base}/browser-test/3?size=512`);
      await after.arrayBuffer();
      assert(/shardcache-shard;fwd=uri-miss/.test(after.headers.get("cache-status") ?? ""), `after the purge: ${after.headers.get("cache-status")}`);
    });

    await check("shows events, the active config and an escaped page (no console errors, no CSP violation)", async () => {
      await until("the purge event", async () => (await text(page, "#events")).toLowerCase().includes("purge"), 15_000);
      assert((await text(page, "#config")).includes("Workers KV"), "config panel does not name its source");
      assert(problems.length === 0, `page errors: ${problems.join(" | ")}`);
    });

    await check("saves a screenshot", async () => {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert(existsSync(SCREENSHOT), "no screenshot written");
      console.log(`# screenshot: ${SCREENSHOT}`);
    });
  } finally {
    await browser.close();
    clearTimeout(killer);
    stop(server);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.log(`not ok - browser test could not run: ${error instanceof Error ? error.message : String(error)}`);
    console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
    process.exit(1);
  },
);
