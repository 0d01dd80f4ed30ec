/** Starts the demo origin for the workers tests (in Node, outside workerd) and stops it afterwards. */
import { startDemoOrigin, type DemoOrigin } from "../../scripts/demo-origin";

let origin: DemoOrigin | undefined;

export async function setup(): Promise<void> {
  origin = await startDemoOrigin(Number(process.env.TEST_ORIGIN_PORT));
}

export async function teardown(): Promise<void> {
  await origin?.close();
}
