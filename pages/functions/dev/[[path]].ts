import { forward } from '../../forward';

// Every path under /dev/ (and /dev itself) is the platform Worker's.
export const onRequest = forward;
