/** URI helpers that never throw on hostile input (a malformed value must not turn into a 5xx). */

/** `decodeURIComponent`, or null for a malformed percent-encoding (which would throw URIError). */
export function decodeComponentOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
