import { useMutation } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { publicLayout } from '../../routes/base';
import { AuthCard } from './auth-card';

/** `/forgot-password`: asks for the mail with a reset link. */
export const forgotPasswordRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/forgot-password',
  component: ForgotPassword,
});

function ForgotPassword() {
  const request = useMutation({
    mutationFn: async (values: Record<string, string>) => {
      await unwrap(api.POST('/api/auth/password-reset', { body: { email: values.email ?? '' } }));
      return values.email ?? '';
    },
  });
  if (request.isSuccess) {
    return (
      <AuthCard title="Check your mail" status>
        <p className="text-sm">
          If <strong>{request.data}</strong> has an account, a link to choose a new password is on
          its way. It works for one hour.
        </p>
        <Link to="/sign-in" className="text-sm text-accent underline">
          Back to sign in
        </Link>
      </AuthCard>
    );
  }
  return (
    <form
      className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6"
      onSubmit={(event) => request.mutate(formValues(event))}
    >
      <h1 className="text-xl font-semibold">Reset your password</h1>
      <p className="text-sm text-muted">We will mail you a link to choose a new one.</p>
      <ErrorNotice error={request.error} />
      <Field label="Email" name="email" type="email" autoComplete="username" required />
      <Button tone="primary" type="submit" disabled={request.isPending}>
        {request.isPending ? 'Sending…' : 'Send the link'}
      </Button>
      <Link to="/sign-in" className="text-sm text-accent underline">
        Back to sign in
      </Link>
    </form>
  );
}
