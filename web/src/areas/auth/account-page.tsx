import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Button, Card, Field, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { formValues } from '../../lib/forms';
import { meQuery } from '../../lib/session';
import { MfaCard } from './account-mfa';
import { SessionsCard } from './account-sessions';
import { TokensCard } from './account-tokens';

function Profile() {
  const me = useQuery(meQuery);
  const queryClient = useQueryClient();
  const rename = useMutation({
    mutationFn: (displayName: string) =>
      unwrap(api.PATCH('/api/me', { body: { display_name: displayName } })),
    onSuccess: (user) => queryClient.setQueryData(meQuery.queryKey, user),
  });
  if (me.isPending) return <Spinner />;
  if (me.isError) return <ErrorNotice error={me.error} />;
  const rows: [string, string][] = [
    ['Email', me.data.email],
    ['Name', me.data.display_name ?? '—'],
    ['Address confirmed', me.data.email_verified ? 'Yes' : 'No'],
    ['Two-factor authentication', me.data.mfa_enabled ? 'On' : 'Off'],
    ['Member since', timeAgo(me.data.created_at)],
  ];
  return (
    <Card title="Profile">
      <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
        {rows.map(([term, value]) => (
          <div key={term} className="contents">
            <dt className="text-muted">{term}</dt>
            <dd className="break-all">{value}</dd>
          </div>
        ))}
      </dl>
      <form
        aria-label="Name"
        className="mt-4 flex flex-wrap items-end gap-2"
        onSubmit={(event) => rename.mutate(formValues(event).display_name ?? '')}
      >
        <Field
          label="Your name"
          name="display_name"
          autoComplete="name"
          maxLength={100}
          defaultValue={me.data.display_name ?? ''}
          hint="Shown to the members of your workspaces; empty shows your email address."
        />
        <Button type="submit" disabled={rename.isPending}>
          Save name
        </Button>
        {rename.isSuccess && (
          <p role="status" className="text-sm text-ok">
            Saved.
          </p>
        )}
      </form>
      <ErrorNotice error={rename.error} />
    </Card>
  );
}

/** The signed-in user's own account: profile, sessions, second factor, personal tokens. */
export function AccountPage() {
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Account">Your profile, where you are signed in, and how.</PageHeader>
      <Profile />
      <MfaCard />
      <SessionsCard />
      <TokensCard />
    </div>
  );
}
