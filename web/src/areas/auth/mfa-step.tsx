import { useMutation } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Field } from '../../components/ui';
import { formValues } from '../../lib/forms';

/**
 * The second step of a sign-in for an account with two-factor authentication: a code from the
 * authenticator app, or one of the recovery codes (POST /api/auth/mfa/verify).
 */
export function MfaStep({
  mfaToken,
  returnTo,
  onSignedIn,
}: {
  mfaToken: string;
  returnTo?: string | undefined;
  onSignedIn: () => Promise<void>;
}) {
  const [useRecovery, setUseRecovery] = useState(false);
  const verify = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/auth/mfa/verify', {
          body: {
            mfa_token: mfaToken,
            session: 'cookie',
            ...(useRecovery
              ? { recovery_code: values.recovery_code?.trim() ?? '' }
              : { code: values.code?.trim() ?? '' }),
          },
        }),
      ),
    onSuccess: onSignedIn,
  });
  return (
    <form
      className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6"
      onSubmit={(event) => verify.mutate(formValues(event))}
    >
      <h1 className="text-xl font-semibold">Two-factor authentication</h1>
      <p className="text-sm text-muted">
        {useRecovery
          ? 'Enter one of your recovery codes. Each one works once.'
          : 'Enter the 6-digit code from your authenticator app.'}
      </p>
      <ErrorNotice error={verify.error} />
      {useRecovery ? (
        <Field
          key="recovery"
          label="Recovery code"
          name="recovery_code"
          autoComplete="off"
          autoFocus
          required
        />
      ) : (
        <Field
          key="code"
          label="Authentication code"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="\d{6}"
          maxLength={6}
          autoFocus
          required
        />
      )}
      <Button tone="primary" type="submit" disabled={verify.isPending}>
        {verify.isPending ? 'Checking…' : 'Verify'}
      </Button>
      <div className="flex flex-wrap justify-between gap-2 text-sm">
        <button
          type="button"
          className="text-accent underline"
          onClick={() => {
            setUseRecovery(!useRecovery);
            verify.reset();
          }}
        >
          {useRecovery ? 'Use the authenticator app' : 'Use a recovery code'}
        </button>
        <Link
          to="/sign-in"
          search={returnTo ? { return_to: returnTo } : {}}
          reloadDocument
          className="text-accent underline"
        >
          Start over
        </Link>
      </div>
    </form>
  );
}
