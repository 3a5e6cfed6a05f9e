import { forward } from '../../forward';

// Every path under /api/ (and /api itself) is the platform Worker's.
export const onRequest = forward;
