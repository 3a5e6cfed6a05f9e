import { forward } from '../../forward';

// Every path under /webhooks/ (and /webhooks itself) is the platform Worker's.
export const onRequest = forward;
