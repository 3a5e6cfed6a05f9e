import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { CopyButton } from '../../components/copy-button';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, Field, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { formValues } from '../../lib/forms';
import { meQuery } from '../../lib/session';
import { ShownOnce } from './account-parts';

const mfaQuery = queryOptions({
  queryKey: ['mfa'],
  queryFn: () => unwrap(api.GET('/api/me/mfa')),
});

const TOTP = /^\d{6}$/;

/** A code field that takes either the app's 6 digits or a recovery code. */
function secondFactor(value: string) {
  const code = value.trim();
  return TOTP.test(code) ? { code } : { recovery_code: code };
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <ShownOnce title="Your recovery codes" onDone={onDone}>
      <p className="text-sm">
        Each code signs you in once when you cannot use the authenticator app.
      </p>
      <ol aria-label="Recovery codes" className="grid grid-cols-2 gap-1 font-mono text-sm">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ol>
      <div>
        <CopyButton text={codes.join('\n')} label="Copy the codes" />
      </div>
    </ShownOnce>
  );
}

function Enrolment({
  enrolment,
  onConfirmed,
  onCancel,
}: {
  enrolment: Schemas['TotpEnrolment'];
  onConfirmed: (codes: string[]) => void;
  onCancel: () => void;
}) {
  const confirm = useMutation({
    mutationFn: (code: string) => unwrap(api.POST('/api/me/mfa/totp/confirm', { body: { code } })),
    onSuccess: (answer) => onConfirmed(answer.recovery_codes),
  });
  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm">
        Scan the code with an authenticator app (1Password, Google Authenticator, Aegis…), then
        enter the 6-digit code it shows.
      </p>
      <div className="flex flex-wrap items-start gap-4">
        <div className="rounded-md bg-white p-3">
          <QRCodeSVG
            value={enrolment.otpauth_uri}
            size={176}
            title="QR code for your authenticator app"
          />
        </div>
        <div className="flex min-w-0 flex-col gap-2 text-sm">
          <p className="text-muted">Cannot scan? Type this key into the app:</p>
          <code className="break-all font-mono">{enrolment.secret}</code>
          <div>
            <CopyButton text={enrolment.secret} label="Copy the key" />
          </div>
        </div>
      </div>
      <form
        className="flex flex-col gap-3 sm:max-w-xs"
        onSubmit={(event) => confirm.mutate(formValues(event).code?.trim() ?? '')}
      >
        <ErrorNotice error={confirm.error} />
        <Field
          label="Code from the app"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="\d{6}"
          maxLength={6}
          required
        />
        <div className="flex flex-wrap gap-2">
          <Button tone="primary" type="submit" disabled={confirm.isPending}>
            {confirm.isPending ? 'Checking…' : 'Turn on'}
          </Button>
          <Button onClick={onCancel}>Cancel</Button>
        </div>
      </form>
    </div>
  );
}

function EnabledControls({
  status,
  onNewCodes,
}: {
  status: Schemas['MfaStatus'];
  onNewCodes: (codes: string[]) => void;
}) {
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const [offCode, setOffCode] = useState('');
  const regenerate = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/me/mfa/recovery-codes', {
          body: {
            code: values.code?.trim() ?? '',
            ...(values.password ? { password: values.password } : {}),
          },
        }),
      ),
    onSuccess: (answer) => {
      onNewCodes(answer.recovery_codes);
      queryClient.invalidateQueries({ queryKey: mfaQuery.queryKey });
    },
  });
  const disable = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE('/api/me/mfa', {
          body: { ...secondFactor(offCode), ...(password ? { password } : {}) },
        }),
      ),
    onSuccess: () => {
      setPassword('');
      setOffCode('');
      queryClient.invalidateQueries({ queryKey: mfaQuery.queryKey });
      queryClient.invalidateQueries({ queryKey: meQuery.queryKey });
    },
  });
  return (
    <div className="flex flex-col gap-6">
      <p className="text-sm">
        <span className="font-medium text-ok">On</span> since {timeAgo(status.enabled_at)}.{' '}
        {status.recovery_codes_remaining} recovery codes left.
      </p>
      <form
        aria-label="New recovery codes"
        className="flex flex-col gap-3 sm:max-w-sm"
        onSubmit={(event) => regenerate.mutate(formValues(event))}
      >
        <h3 className="font-medium">New recovery codes</h3>
        <p className="text-sm text-muted">The old codes stop working.</p>
        <ErrorNotice error={regenerate.error} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          hint="Leave empty if you sign in only with GitHub or single sign-on."
        />
        <Field
          label="Code from the app"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="\d{6}"
          maxLength={6}
          required
        />
        <div>
          <Button type="submit" disabled={regenerate.isPending}>
            Replace recovery codes
          </Button>
        </div>
      </form>
      <div className="flex flex-col gap-3 sm:max-w-sm">
        <h3 className="font-medium">Turn off</h3>
        <ErrorNotice error={disable.error} />
        <Field
          label="Password for turning off"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          hint="Leave empty if you sign in only with GitHub or single sign-on."
        />
        <Field
          label="Code from the app, or a recovery code"
          autoComplete="one-time-code"
          value={offCode}
          onChange={(event) => setOffCode(event.target.value)}
        />
        <div>
          <ConfirmButton
            label="Turn off two-factor authentication"
            tone="danger"
            disabled={offCode.trim() === ''}
            title="Turn off two-factor authentication?"
            description="Signing in will need only your password (or GitHub / single sign-on). Your authenticator secret and recovery codes are deleted."
            confirmLabel="Turn off"
            onConfirm={() => disable.mutateAsync().catch(() => undefined)}
          />
        </div>
      </div>
    </div>
  );
}

/** Two-factor authentication: set up with a QR code, recovery codes, turning it off. */
export function MfaCard() {
  const status = useQuery(mfaQuery);
  const queryClient = useQueryClient();
  const [enrolment, setEnrolment] = useState<Schemas['TotpEnrolment'] | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const start = useMutation({
    mutationFn: () => unwrap(api.POST('/api/me/mfa/totp')),
    onSuccess: setEnrolment,
  });
  function confirmed(recoveryCodes: string[]) {
    setEnrolment(null);
    setCodes(recoveryCodes);
    queryClient.invalidateQueries({ queryKey: mfaQuery.queryKey });
    queryClient.invalidateQueries({ queryKey: meQuery.queryKey });
  }

  let body: React.ReactNode;
  if (codes) body = <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />;
  else if (status.isPending) body = <Spinner />;
  else if (status.isError) body = <ErrorNotice error={status.error} />;
  else if (status.data.enabled)
    body = <EnabledControls status={status.data} onNewCodes={setCodes} />;
  else if (enrolment)
    body = (
      <Enrolment
        enrolment={enrolment}
        onConfirmed={confirmed}
        onCancel={() => setEnrolment(null)}
      />
    );
  else
    body = (
      <div className="flex flex-col gap-3">
        <p className="text-sm">
          <span className="font-medium">Off.</span> With it on, signing in also asks for a code from
          an authenticator app on your phone.
        </p>
        <ErrorNotice error={start.error} />
        <div>
          <Button tone="primary" disabled={start.isPending} onClick={() => start.mutate()}>
            Set up two-factor authentication
          </Button>
        </div>
      </div>
    );
  return <Card title="Two-factor authentication">{body}</Card>;
}
