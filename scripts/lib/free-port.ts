/** A loopback port that was free a moment ago (the OS picks it; the listener is closed again at once). */
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` on loopback can be listened on right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Loopback ports handed out from a fixed range (`--ports=19600-19699`), so a benchmark that shares
 * the machine keeps to the ports it was given; each is probed before it is handed out, and none twice.
 */
export class PortRange {
  #next: number;

  constructor(
    readonly first: number,
    readonly last: number,
  ) {
    if (!(Number.isInteger(first) && Number.isInteger(last) && first > 0 && first <= last && last < 65536)) throw new Error(`bad port range ${first}-${last}`);
    this.#next = first;
  }

  /** `--ports=A-B` on the command line, or null (the OS picks free ports). */
  static fromArgs(argv: readonly string[]): PortRange | null {
    const arg = argv.find((a) => a.startsWith("--ports="));
    if (arg === undefined) return null;
    const m = /^(\d+)-(\d+)$/.exec(arg.slice("--ports=".length));
    if (m === null) throw new Error(`--ports wants FIRST-LAST, got ${arg}`);
    return new PortRange(Number(m[1]), Number(m[2]));
  }

  async take(): Promise<number> {
    while (this.#next <= this.last) {
      const port = this.#next++;
      if (await canListen(port)) return port;
    }
    throw new Error(`no free port left in ${this.first}-${this.last}`);
  }
}

/** A port from `range` when one is given, else whatever the OS picks. */
export function portFrom(range: PortRange | null): Promise<number> {
  return range === null ? freePort() : range.take();
}
