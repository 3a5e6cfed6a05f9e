import { forward } from '../../forward';

// The Worker's token-link page (workers/pages/token-links.ts): the link in the mail opens it.
export const onRequest = forward;
