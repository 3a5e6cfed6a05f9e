import { useEffect, useState } from 'react';

/**
 * The values a link carries in its URL fragment (`#token=…`, `#mfa_token=…`). Browsers never
 * send the fragment, so no server log holds the token; once read, it is also taken out of the
 * address bar (unless `keep`) so it stays out of the history and of what the page is shared as.
 */
export function useFragment({ keep = false } = {}): URLSearchParams {
  const [values] = useState(() => new URLSearchParams(window.location.hash.slice(1)));
  useEffect(() => {
    if (keep || !window.location.hash) return;
    const { pathname, search } = window.location;
    window.history.replaceState(window.history.state, '', pathname + search);
  }, [keep]);
  return values;
}

const PENDING_RETURN = 'sparki.return_to';

/**
 * Where to come back to after a sign-up: the verification mail opens another page (maybe another
 * tab), so the page that sent someone to sign up (an invitation) is remembered in this browser.
 */
export function rememberReturnTo(path: string | undefined) {
  if (path) localStorage.setItem(PENDING_RETURN, path);
}

export function pendingReturnTo(): string | undefined {
  return localStorage.getItem(PENDING_RETURN) ?? undefined;
}

export function forgetReturnTo() {
  localStorage.removeItem(PENDING_RETURN);
}
