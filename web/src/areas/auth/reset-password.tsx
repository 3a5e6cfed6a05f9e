import { useMutation } from '@tanstack/react-query';
import { createRoute, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { formValues } from '../../lib/forms';
import { publicLayout } from '../../routes/base';
import { AuthCard } from './auth-card';
import { useFragment } from './fragment';
import { MissingToken } from './verify-email';

/** `/reset-password#token=…`: the link of the reset mail; every session is signed out after. */
export const resetPasswordRoute = createRoute({
  getParentRoute: () => publicLayout,
  path: '/reset-password',
  component: ResetPassword,
});

function ResetPassword() {
  const token = useFragment().get('token');
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({
    mutationFn: (password: string) =>
      unwrap(
        api.POST('/api/auth/password-reset/confirm', { body: { token: token ?? '', password } }),
      ),
  });
  if (!token) return <MissingToken />;
  if (reset.isSuccess) {
    return (
      <AuthCard title="Your password is changed" status>
        <p className="text-sm">Every session was signed out. Sign in with the new password.</p>
        <Link
          to="/sign-in"
          className="inline-flex justify-center rounded-md bg-accent px-3 py-2 text-sm font-medium text-accent-ink"
        >
          Sign in
        </Link>
      </AuthCard>
    );
  }
  return (
    <form
      className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6"
      onSubmit={(event) => {
        const values = formValues(event);
        const matches = values.password === values.repeat;
        setMismatch(!matches);
        if (matches) reset.mutate(values.password ?? '');
      }}
    >
      <h1 className="text-xl font-semibold">Choose a new password</h1>
      <ErrorNotice error={reset.error} />
      <Field
        label="New password"
        name="password"
        type="password"
        autoComplete="new-password"
        minLength={10}
        maxLength={256}
        hint="At least 10 characters."
        required
      />
      <Field
        label="Repeat the new password"
        name="repeat"
        type="password"
        autoComplete="new-password"
        error={mismatch ? 'The two passwords differ' : undefined}
        required
      />
      <Button tone="primary" type="submit" disabled={reset.isPending}>
        {reset.isPending ? 'Saving…' : 'Change password'}
      </Button>
      {reset.isError && (
        <p className="text-sm text-muted">
          Links work once and for one hour.{' '}
          <Link to="/forgot-password" className="text-accent underline">
            Ask for a new one
          </Link>
          .
        </p>
      )}
    </form>
  );
}
