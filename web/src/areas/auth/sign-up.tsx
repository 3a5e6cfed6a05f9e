import { useMutation } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { publicLayout } from '../../routes/base';
import { AuthCard } from './auth-card';
import { rememberReturnTo } from './fragment';
import { validateReturnTo } from './sign-in';

export const signUpRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/sign-up',
  validateSearch: validateReturnTo,
  component: SignUp,
});

function SignUp() {
  const { return_to } = signUpRoute.useSearch();
  const signUp = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      const displayName = values.display_name?.trim();
      await unwrap(
        api.POST('/api/auth/signup', {
          body: {
            email: values.email ?? '',
            password: values.password ?? '',
            ...(displayName ? { display_name: displayName } : {}),
          },
        }),
      );
      return values.email ?? '';
    },
    // The verification link opens another page: remember where to come back to after it.
    onSuccess: () => rememberReturnTo(return_to),
  });

  if (signUp.isSuccess) {
    return (
      <AuthCard title="Check your mail" status>
        <p className="text-sm">
          We sent a link to <strong>{signUp.data}</strong>. Open it to confirm your address, then
          sign in.
        </p>
        <p className="text-sm text-muted">
          No mail after a few minutes? Check the spam folder, or{' '}
          <button type="button" className="text-accent underline" onClick={() => signUp.reset()}>
            try again
          </button>
          .
        </p>
      </AuthCard>
    );
  }
  return (
    <form
      className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6"
      onSubmit={(event) => signUp.mutate(formValues(event))}
    >
      <h1 className="text-xl font-semibold">Create an account</h1>
      <ErrorNotice error={signUp.error} />
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Field label="Name (optional)" name="display_name" autoComplete="name" maxLength={100} />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        minLength={10}
        maxLength={256}
        hint="At least 10 characters. A few random words make a good one."
        required
      />
      <Button tone="primary" type="submit" disabled={signUp.isPending}>
        {signUp.isPending ? 'Creating…' : 'Create account'}
      </Button>
      <p className="text-sm text-muted">
        Already have an account?{' '}
        <Link
          to="/sign-in"
          search={return_to ? { return_to } : {}}
          className="text-accent underline"
        >
          Sign in
        </Link>
      </p>
    </form>
  );
}
