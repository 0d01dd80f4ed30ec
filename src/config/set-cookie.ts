/**
 * The one schema for `storeSetCookie`, shared by the setting and the rule action, so both spell the
 * values and the warning the same way in the config document and its JSON Schema.
 */
import * as z from "zod";

export const storeSetCookieSchema = z.enum(["off", "strip", "keep"]);

export const STORE_SET_COOKIE_DESCRIPTION =
  'Responses that set a cookie: "off" (default) does not store them; "strip" stores them without Set-Cookie ' +
  "(no response served from the stored copy carries the cookie, not even the one that filled the cache); " +
  '"keep" stores them WITH Set-Cookie. DANGEROUS: "keep" hands the cookie to every client that gets the ' +
  "stored copy (one visitor's session becomes everyone's); use it only for cookies that are identical for all clients.";
