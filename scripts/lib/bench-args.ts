/** Command-line options `npm run bench` and `npm run simulate` share, and their `--help`. */
import { BASELINE_REF } from "./scale";

/** The option lines both commands take (their usage texts list them after their own). */
export const SHARED_OPTIONS = `  --ports=A-B         take every listening port (demo origin, workerd, nginx, Varnish) from A..B
  --source=REF        measure a git commit instead of the working tree
  --baseline=REF      the build the herd's shard calls are compared with (default ${BASELINE_REF})
  --help              this text`;

/** Prints `usage` and exits when `--help` is on the command line. */
export function exitOnHelp(argv: readonly string[], usage: string): void {
  if (!argv.includes("--help")) return;
  console.log(usage);
  process.exit(0);
}
