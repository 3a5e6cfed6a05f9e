import { useQuery } from '@tanstack/react-query';
import { ErrorNotice } from '../../components/error-notice';
import { Card, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { meQuery } from '../../lib/session';
import { MfaCard } from './account-mfa';
import { SessionsCard } from './account-sessions';
import { TokensCard } from './account-tokens';

function Profile() {
  const me = useQuery(meQuery);
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
