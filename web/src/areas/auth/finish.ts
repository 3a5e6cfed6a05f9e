import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { forgetReturnTo } from './fragment';

/** Where to go after signing in: only a path on this origin, never another site. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !value.includes('\\')
    ? value
    : '/';
}

/** Signed in: forget what the signed-out pages knew and go where the visitor was headed. */
export function useFinishSignIn(returnTo: string | undefined) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return async () => {
    forgetReturnTo();
    await queryClient.invalidateQueries();
    // `href`, not `to`: the path may carry a query and a fragment (an invitation's token).
    await navigate({ href: safeReturnTo(returnTo) });
  };
}
