import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createRoute, Link, useNavigate } from '@tanstack/react-router';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { publicLayout } from '../../routes/base';

/** Where to go after signing in: only a path on this origin, never another site. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//')
    ? value
    : '/';
}

export const signInRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/sign-in',
  validateSearch: (search: Record<string, unknown>): { return_to?: string } =>
    search.return_to === undefined ? {} : { return_to: safeReturnTo(search.return_to) },
  component: SignIn,
});

function SignIn() {
  const { return_to } = signInRoute.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const signIn = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/auth/login', {
          body: { email: values.email ?? '', password: values.password ?? '', session: 'cookie' },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries();
      await navigate({ to: return_to ?? '/' });
    },
  });
  return (
    <form
      className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6"
      onSubmit={(event) => signIn.mutate(formValues(event))}
    >
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
      <p className="text-sm text-muted">
        New here?{' '}
        <Link to="/sign-up" className="text-accent underline">
          Create an account
        </Link>
      </p>
    </form>
  );
}
