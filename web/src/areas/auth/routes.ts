import { appLayout, publicLayout } from '../../routes/base';
import { placeholder } from '../../routes/placeholder';
import { signInRoute } from './sign-in';

export const publicRoutes = [
  signInRoute,
  placeholder(publicLayout, '/sign-up', 'Create an account'),
] as const;
export const accountRoutes = [placeholder(appLayout, '/account', 'Account')] as const;
