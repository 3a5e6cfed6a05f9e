import { useMutation } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Spinner } from '../../components/ui';
import { publicLayout } from '../../routes/base';
import { AuthCard } from './auth-card';
import { pendingReturnTo, useFragment } from './fragment';

/** `/verify-email#token=…`: the link of the verification mail confirms the address at once. */
export const verifyEmailRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/verify-email',
  component: VerifyEmail,
});

export function MissingToken() {
  return (
    <AuthCard title="This link is incomplete">
      <p role="alert" className="text-sm">
        The link has no token in it. Open the link from the mail as it is, without cutting it.
      </p>
    </AuthCard>
  );
}

function VerifyEmail() {
  const token = useFragment().get('token');
  const verify = useMutation({
    mutationFn: (value: string) =>
      unwrap(api.POST('/api/auth/verify-email', { body: { token: value } })),
  });
  // Once: the token is single-use, so a second call (a re-render) would fail it.
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      verify.mutate(token);
    }
  }, [token, verify]);

  if (!token) return <MissingToken />;
  if (verify.isError) {
    return (
      <AuthCard title="Your address is not confirmed">
        <ErrorNotice error={verify.error} />
        <p className="text-sm text-muted">
          Links work once and expire. Already confirmed?{' '}
          <Link to="/sign-in" className="text-accent underline">
            Sign in
          </Link>
          . Otherwise{' '}
          <Link to="/sign-up" className="text-accent underline">
            sign up again
          </Link>{' '}
          for a new link.
        </p>
      </AuthCard>
    );
  }
  if (!verify.isSuccess) return <Spinner label="Confirming your address" />;
  const returnTo = pendingReturnTo();
  return (
    <AuthCard title="Your address is confirmed" status>
      <p className="text-sm">You can sign in now.</p>
      <Link
        to="/sign-in"
        search={returnTo ? { return_to: returnTo } : {}}
        className="inline-flex justify-center rounded-md bg-accent px-3 py-2 text-sm font-medium text-accent-ink"
      >
        Sign in
      </Link>
    </AuthCard>
  );
}
