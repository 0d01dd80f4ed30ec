/**
 * The request field that carries a test's clock offset to the demo origin (scripts/demo-origin.ts answers
 * with a Date that far ahead of the wall clock). Its own module, free of Node imports, because the
 * workers tests import it inside workerd (test/helpers/setup-workers.ts).
 */
export const CLOCK_OFFSET_FIELD = "x-demo-clock-offset";
