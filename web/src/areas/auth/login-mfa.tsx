import { createRoute, Link } from '@tanstack/react-router';
import { publicLayout } from '../../routes/base';
import { useFinishSignIn } from './finish';
import { useFragment } from './fragment';
import { MfaStep } from './mfa-step';

/**
 * `/login/mfa#mfa_token=…&return_to=…`: where a sign-in through GitHub or the identity provider
 * lands for an account with two-factor authentication, to finish with a code.
 */
export const loginMfaRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/login/mfa',
  component: LoginMfa,
});

function LoginMfa() {
  const fragment = useFragment();
  const mfaToken = fragment.get('mfa_token');
  const returnTo = fragment.get('return_to') ?? undefined;
  const finish = useFinishSignIn(returnTo);
  if (!mfaToken) {
    return (
      <div role="alert" className="flex flex-col gap-3 rounded-lg border border-line bg-panel p-6">
        <h1 className="text-xl font-semibold">This sign-in step is missing</h1>
        <p className="text-sm text-muted">The link has no sign-in step in it. Sign in again.</p>
        <Link to="/sign-in" className="text-accent underline">
          Sign in
        </Link>
      </div>
    );
  }
  return <MfaStep mfaToken={mfaToken} returnTo={returnTo} onSignedIn={finish} />;
}
