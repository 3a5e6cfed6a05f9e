import { useMutation, useQuery } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { publicLayout } from '../../routes/base';
import { safeReturnTo, useFinishSignIn } from './finish';
import { MfaStep } from './mfa-step';

export type ReturnToSearch = { return_to?: string };

/** `?return_to=`: kept through sign-in, sign-up and the second step, checked to stay on-site. */
export function validateReturnTo(search: Record<string, unknown>): ReturnToSearch {
  return search.return_to === undefined ? {} : { return_to: safeReturnTo(search.return_to) };
}

export const signInRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/sign-in',
  validateSearch: validateReturnTo,
  component: SignIn,
});

const providersQuery = {
  queryKey: ['auth-providers'],
  queryFn: () => unwrap(api.GET('/api/auth/providers')),
  staleTime: Number.POSITIVE_INFINITY,
};

/** A button per identity provider the server is configured for; none when there are none. */
function ProviderButtons({ returnTo }: { returnTo: string | undefined }) {
  const { data } = useQuery(providersQuery);
  const providers = data?.providers ?? [];
  if (providers.length === 0) return null;
  const query = returnTo ? `?${new URLSearchParams({ return_to: returnTo })}` : '';
  return (
    <div className="flex flex-col gap-2">
      <p className="text-center text-xs text-muted">or</p>
      {providers.map((provider) => (
        <a
          key={provider.id}
          href={`/api/auth/oidc/${provider.id}/start${query}`}
          className="inline-flex items-center justify-center rounded-md border border-line bg-panel px-3 py-2 text-sm font-medium hover:bg-canvas"
        >
          Continue with {provider.label}
        </a>
      ))}
    </div>
  );
}

function SignIn() {
  const { return_to } = signInRoute.useSearch();
  const finish = useFinishSignIn(return_to);
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const signIn = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/auth/login', {
          body: { email: values.email ?? '', password: values.password ?? '', session: 'cookie' },
        }),
      ),
    onSuccess: async (answer) => {
      if ('mfa_required' in answer) setMfaToken(answer.mfa_token);
      else await finish();
    },
  });
  if (mfaToken) return <MfaStep mfaToken={mfaToken} returnTo={return_to} onSignedIn={finish} />;
  const search = return_to ? { return_to } : {};
  return (
    <div className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6">
      <form className="flex flex-col gap-4" onSubmit={(event) => signIn.mutate(formValues(event))}>
        <h1 className="text-xl font-semibold">Sign in</h1>
        <ErrorNotice error={signIn.error} />
        <Field label="Email" name="email" type="email" autoComplete="username" required />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        <Button tone="primary" type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
      <ProviderButtons returnTo={return_to} />
      <div className="flex flex-wrap justify-between gap-2 text-sm text-muted">
        <Link to="/forgot-password" className="text-accent underline">
          Forgot your password?
        </Link>
        <span>
          New here?{' '}
          <Link to="/sign-up" search={search} className="text-accent underline">
            Create an account
          </Link>
        </span>
      </div>
    </div>
  );
}
