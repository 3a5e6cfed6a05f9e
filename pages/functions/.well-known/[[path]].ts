import { forward } from '../../forward';

// Every path under /.well-known/ (and /.well-known itself) is the platform Worker's.
export const onRequest = forward;
