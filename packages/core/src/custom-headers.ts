/**
 * The headers a merchant may add to every delivery of an endpoint. Refused, because each one either
 * is Herald's own or breaks every attempt:
 * - hop-by-hop and framing headers (RFC 9110 §7.6.1, §6.4): they describe one connection or the
 *   bytes on it, which the HTTP client owns: `Keep-Alive: x` or `Transfer-Encoding` make it throw,
 *   `Expect` makes it wait for a 100 that never comes, `Content-Length` contradicts the body;
 * - `Content-Encoding`: receivers would try to decompress plain JSON;
 * - what makes a delivery what it is: content-type, user-agent, webhook-*, the signature header.
 */
const forbidden = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
  "expect",
  "host",
  "content-length",
  "content-encoding",
  "content-type",
  "user-agent",
]);

// RFC 9110 §5.6.2 token; field values: visible ASCII, space, tab, obs-text; never CR, LF or NUL.
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const fieldValue = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Herald sets it, or HTTP/1.1 forbids a sender to choose it: dropped from any delivery. */
export function isForbiddenCustomHeader(name: string, signatureHeader: string): boolean {
  const lower = name.toLowerCase();
  return lower === signatureHeader.toLowerCase() || lower.startsWith("webhook-") || forbidden.has(lower);
}

/** Why these custom headers cannot be sent as given, or undefined when they can. */
export function customHeadersProblem(
  headers: Record<string, string>,
  signatureHeader: string,
): string | undefined {
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const shown = JSON.stringify(name.slice(0, 64));
    if (!token.test(name)) return `header name ${shown} is not an HTTP token`;
    if (!fieldValue.test(value)) return `header ${shown} has a value with characters HTTP does not allow`;
    // Senders strip them (RFC 9110 §5.5): the receiver would get another value than the one stored.
    if (/^[\t ]|[\t ]$/.test(value)) return `header ${shown} has a value with leading or trailing whitespace`;
    if (isForbiddenCustomHeader(name, signatureHeader))
      return `header ${shown} is set by Herald or by HTTP itself and cannot be given`;
    const earlier = seen.get(name.toLowerCase());
    if (earlier !== undefined)
      return `headers ${JSON.stringify(earlier)} and ${shown} are the same header (names ignore case)`;
    seen.set(name.toLowerCase(), name);
  }
  return undefined;
}
