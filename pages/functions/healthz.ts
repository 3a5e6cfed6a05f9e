import { forward } from '../forward';

// The Worker's healthz check, not a dashboard route.
export const onRequest = forward;
