const MAX_RETURN_TO_LENGTH = 2048;

/**
 * The same-origin path a browser may be sent to after signing in, or undefined. Anything a
 * browser could read as another host (`//evil.example`, `/\evil.example`, `https://…`) or that
 * smuggles control characters is refused: an open redirect after sign-in is a phishing tool.
 */
export function safeReturnPath(candidate: string | undefined, origin: string): string | undefined {
  if (!candidate || candidate.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (!candidate.startsWith('/') || candidate.startsWith('//')) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\\\u0000-\u001f\u007f]/.test(candidate)) return undefined;
  const resolved = new URL(candidate, origin);
  if (resolved.origin !== new URL(origin).origin) return undefined;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
