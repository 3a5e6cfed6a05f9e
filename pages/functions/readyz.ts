import { forward } from '../forward';

// The Worker's readyz check, not a dashboard route.
export const onRequest = forward;
