/**
 * nginx (proxy_cache + proxy_cache_lock) and Varnish in front of the same demo origin, for
 * comparison. Configs are generated into a temp dir, each server listens on free loopback ports and
 * is stopped by its PID. Both are optional: `available()` is false where the binary is absent.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandExists, sleep } from "./stats";
import { portFrom, type PortRange } from "./free-port";

export interface ProxyServer {
  name: "nginx" | "varnish";
  /** The cache in front of the origin. */
  cacheUrl: string;
  /** The same server answering a constant body itself (its own reference). */
  referenceUrl: string;
  pid: number;
  stop(): Promise<void>;
}

async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`not answering on ${url} after ${timeoutMs} ms`);
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      process.kill(child.pid, "SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
    }
    await rm(dir, { recursive: true, force: true });
  };
}

function collectOutput(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return () => out;
}

/**
 * A temp dir the servers' unprivileged workers can read (when started as root, nginx's workers and
 * Varnish's VCL compiler drop to their own users, which cannot enter a 0700 mkdtemp dir).
 */
async function tempDirForServer(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export const nginxAvailable = () => commandExists("nginx");
export const varnishAvailable = () => commandExists("varnishd");

/** nginx with one worker process: a proxy_cache server (lock on) and a `return 200` reference server. */
export async function startNginx(originUrl: string, ports: PortRange | null = null): Promise<ProxyServer> {
  const dir = await tempDirForServer("shardcache-nginx-");
  const [cachePort, refPort] = [await portFrom(ports), await portFrom(ports)];
  const origin = new URL(originUrl);
  const conf = `
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=bench:16m max_size=256m inactive=10m use_temp_path=off;
  upstream origin { server ${origin.hostname}:${origin.port}; keepalive 64; }
  server {
    listen 127.0.0.1:${cachePort};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 15s;
      proxy_cache_lock_age 15s;
      add_header X-Cache-Status $upstream_cache_status;
    }
  }
  server {
    listen 127.0.0.1:${refPort};
    location / { default_type "text/plain; charset=utf-8"; return 200 "demo origin: /ref #1\\n"; }
  }
}
`;
  const confPath = join(dir, "nginx.conf");
  await writeFile(confPath, conf, { mode: 0o644 });
  const child = spawn("nginx", ["-c", confPath, "-p", dir, "-e", join(dir, "error.log")], { stdio: ["ignore", "pipe", "pipe"] });
  const output = collectOutput(child);
  const stop = stopper(child, dir);
  try {
    await waitForHttp(`http://127.0.0.1:${refPort}/`, 10_000, child);
  } catch (error) {
    await stop();
    throw new Error(`nginx did not start: ${(error as Error).message}\n${output()}`);
  }
  return { name: "nginx", cacheUrl: `http://127.0.0.1:${cachePort}`, referenceUrl: `http://127.0.0.1:${refPort}`, pid: child.pid!, stop };
}

/** varnishd in the foreground (-F) with a malloc store: the origin as backend, and /__ref answered by a synthetic constant body. */
export async function startVarnish(originUrl: string, ports: PortRange | null = null): Promise<ProxyServer> {
  const dir = await tempDirForServer("shardcache-varnish-");
  const port = await portFrom(ports);
  const origin = new URL(originUrl);
  const vcl = `vcl 4.1;
backend origin { .host = "${origin.hostname}"; .port = "${origin.port}"; .first_byte_timeout = 30s; }
sub vcl_recv {
  if (req.url ~ "^/__ref") { return (synth(200, "OK")); }
}
sub vcl_synth {
  if (resp.status == 200) {
    set resp.http.content-type = "text/plain; charset=utf-8";
    set resp.body = {"demo origin: /ref #1\n"};
    return (deliver);
  }
}
`;
  const vclPath = join(dir, "bench.vcl");
  await writeFile(vclPath, vcl, { mode: 0o644 });
  const child = spawn("varnishd", ["-F", "-a", `127.0.0.1:${port}`, "-f", vclPath, "-n", join(dir, "work"), "-s", "malloc,128m", "-T", "none", "-p", "thread_pools=1"], { stdio: ["ignore", "pipe", "pipe"] });
  const output = collectOutput(child);
  const stop = stopper(child, dir);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/__ref`, 20_000, child);
  } catch (error) {
    await stop();
    throw new Error(`varnishd did not start: ${(error as Error).message}\n${output()}`);
  }
  return { name: "varnish", cacheUrl: `http://127.0.0.1:${port}`, referenceUrl: `http://127.0.0.1:${port}/__ref`, pid: child.pid!, stop };
}
