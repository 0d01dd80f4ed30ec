/**
 * The dashboard's static assets at <adminPrefix>/ui (built into src/admin/ui-assets.generated.ts by
 * scripts/build-ui.ts). They are served without the token: they hold no data, and the page asks the
 * admin API for everything with the token the operator types in. A strict Content-Security-Policy
 * allows only this origin's script, style and API, and `frame-ancestors 'none'` forbids framing.
 */
import { UI_CSS, UI_HTML, UI_JS, UI_VERSION } from "./ui-assets.generated";

export const UI_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": UI_CSP,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

/** For an HTML attribute value (the prefix is operator config: escaped like any other data). */
function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#39;");
}

/** The asset for `pathname` under the prefix, or null when it is not a dashboard path. */
export function dashboardResponse(pathname: string, prefix: string, method: string): Response | null {
  const rest = pathname.slice(prefix.length);
  const asset = rest === "/ui" || rest === "/ui/" ? "html" : rest === "/ui/app.js" ? "js" : rest === "/ui/app.css" ? "css" : null;
  if (asset === null) return null;
  if (method !== "GET" && method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD", ...SECURITY_HEADERS } });
  const body = asset === "html" ? UI_HTML.replaceAll("{{PREFIX}}", escapeAttribute(prefix)) : asset === "js" ? UI_JS : UI_CSS;
  const type = asset === "html" ? "text/html; charset=utf-8" : asset === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
  return new Response(method === "HEAD" ? null : body, { headers: { "content-type": type, "cache-control": "no-cache", etag: `"${UI_VERSION}"`, ...SECURITY_HEADERS } });
}
