import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { SelectField } from '../../components/select-field';
import { Button, Card, EmptyState, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { useCan } from '../../lib/roles';
import { runnersRoute } from './routes';

type Runner = Schemas['WorkspaceRunner'];
type Created = Schemas['CreatedRunnerRegistrationToken'];

/** Runners report every 30 s; the list follows without a reload. */
const REFRESH_MS = 5_000;

const EXPIRY_CHOICES = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '24 hours' },
  { hours: 24 * 7, label: '7 days' },
  { hours: 24 * 30, label: '30 days' },
];

/** online, busy (running builds) or full, offline, disabled. */
export function runnerState(runner: Runner): { label: string; tone: string } {
  if (runner.status === 'disabled') return { label: 'disabled', tone: 'bg-warn/15 text-warn' };
  if (runner.status === 'offline') return { label: 'offline', tone: 'bg-muted/15 text-muted' };
  if (runner.running_builds > 0) return { label: 'busy', tone: 'bg-accent/15 text-accent' };
  return { label: 'online', tone: 'bg-ok/15 text-ok' };
}

/** The commands that register a runner with this token and start it, as `sparki runner` takes them. */
export function startCommand(origin: string, token: string): string {
  return `sparki runner register --url ${origin} --token ${token}\nsparki runner start`;
}

export function Runners() {
  const { workspaceId } = runnersRoute.useParams();
  const isAdmin = useCan(workspaceId, 'admin');
  const runners = useQuery({
    queryKey: ['workspace', workspaceId, 'runners'],
    queryFn: async () =>
      (
        await unwrap(
          api.GET('/api/workspaces/{id}/runners', { params: { path: { id: workspaceId } } }),
        )
      ).runners,
    refetchInterval: REFRESH_MS,
  });
  const list = runners.data ?? [];
  const online = list.filter((runner) => runner.status === 'online').length;

  return (
    <div className="flex flex-col gap-6 [&>:first-child]:mb-0">
      <PageHeader title="Runners">
        Machines that run this workspace's builds.{' '}
        {list.length > 0 && `${online} of ${list.length} online.`}
      </PageHeader>
      {isAdmin && <Registration workspaceId={workspaceId} />}
      <ErrorNotice error={runners.error} />
      {runners.isPending ? (
        <Spinner />
      ) : list.length === 0 ? (
        <EmptyState title="No runners yet">
          {isAdmin
            ? 'Create a registration token above and run the command it shows on a build machine.'
            : 'An admin of this workspace registers runners; builds wait until one is online.'}
        </EmptyState>
      ) : (
        <div className="relative overflow-x-auto rounded-lg border border-line bg-panel">
          <table className="w-full min-w-[44rem] text-left text-sm">
            <caption className="sr-only">Runners</caption>
            <thead className="text-xs text-muted">
              <tr>
                <th className="px-3 py-2 font-medium">Runner</th>
                <th className="px-3 py-2 font-medium">State</th>
                <th className="px-3 py-2 font-medium">Builds</th>
                <th className="px-3 py-2 font-medium">Labels</th>
                <th className="px-3 py-2 font-medium">Last seen</th>
                {isAdmin && (
                  <th className="px-3 py-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {list.map((runner) => (
                <RunnerRow
                  key={runner.id}
                  runner={runner}
                  workspaceId={workspaceId}
                  isAdmin={isAdmin}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function RunnerRow({
  runner,
  workspaceId,
  isAdmin,
}: {
  runner: Runner;
  workspaceId: string;
  isAdmin: boolean;
}) {
  const queryClient = useQueryClient();
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: ['workspace', workspaceId, 'runners'] });
  const path = { id: runner.id };
  const toggle = useMutation({
    mutationFn: (disabled: boolean) =>
      unwrap(api.PATCH('/api/runners/{id}', { params: { path }, body: { disabled } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/runners/{id}', { params: { path } })),
    onSuccess: refresh,
  });
  const state = runnerState(runner);
  const disabled = runner.status === 'disabled';
  return (
    <tr className="border-t border-line align-top">
      <td className="px-3 py-2">
        <div className="font-medium">{runner.name}</div>
        <div className="text-xs text-muted">{runner.version ? `v${runner.version}` : ''}</div>
        <ErrorNotice error={toggle.error ?? remove.error} />
      </td>
      <td className="px-3 py-2">
        <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${state.tone}`}>
          {state.label}
        </span>
      </td>
      <td className="px-3 py-2 whitespace-nowrap">
        {runner.running_builds} / {runner.capacity}
      </td>
      <td className="px-3 py-2">
        <div className="flex flex-wrap gap-1">
          {runner.labels.length === 0 && <span className="text-muted">—</span>}
          {runner.labels.map((label) => (
            <span
              key={label}
              className="rounded border border-line px-1.5 py-0.5 font-mono text-xs"
            >
              {label}
            </span>
          ))}
        </div>
      </td>
      <td className="px-3 py-2 whitespace-nowrap text-muted">
        <time dateTime={runner.last_seen_at ?? undefined}>
          {runner.last_seen_at ? timeAgo(runner.last_seen_at) : 'never'}
        </time>
      </td>
      {isAdmin && (
        <td className="px-3 py-2">
          <div className="flex flex-wrap justify-end gap-2">
            {disabled ? (
              <Button disabled={toggle.isPending} onClick={() => toggle.mutate(false)}>
                Enable
              </Button>
            ) : (
              <ConfirmButton
                label="Disable"
                title={`Disable ${runner.name}?`}
                description="Its connection closes at once and the builds it runs are offered to other runners. It cannot connect again until you enable it."
                confirmLabel="Disable runner"
                onConfirm={() => toggle.mutateAsync(true)}
              />
            )}
            <ConfirmButton
              label="Delete"
              tone="danger"
              title={`Delete ${runner.name}?`}
              description="Its runner token stops working and its running builds are offered to other runners. To use the machine again, register it with a new token."
              confirmLabel="Delete runner"
              onConfirm={() => remove.mutateAsync()}
            />
          </div>
        </td>
      )}
    </tr>
  );
}

function Registration({ workspaceId }: { workspaceId: string }) {
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<Created | null>(null);
  const [hours, setHours] = useState(24);
  const key = ['workspace', workspaceId, 'runner-registration-tokens'];
  const tokens = useQuery({
    queryKey: key,
    queryFn: async () =>
      (
        await unwrap(
          api.GET('/api/workspaces/{id}/runner-registration-tokens', {
            params: { path: { id: workspaceId } },
          }),
        )
      ).tokens,
  });
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/workspaces/{id}/runner-registration-tokens', {
          params: { path: { id: workspaceId } },
          body: { expires_in_hours: hours },
        }),
      ),
    onSuccess: async (token) => {
      setCreated(token);
      await queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const revoke = useMutation({
    mutationFn: (tokenId: string) =>
      unwrap(
        api.DELETE('/api/workspaces/{id}/runner-registration-tokens/{tokenId}', {
          params: { path: { id: workspaceId, tokenId } },
        }),
      ),
    onSuccess: async (_data, tokenId) => {
      if (created?.id === tokenId) setCreated(null);
      await queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const now = Date.now();
  const live = (tokens.data ?? []).filter(
    (token) => !token.revoked && Date.parse(token.expires_at) > now,
  );

  return (
    <Card title="Add a runner">
      <p className="mb-3 text-sm text-muted">
        A registration token lets any number of machines register as runners of this workspace until
        it expires or is revoked. Runners keep working after that.
      </p>
      <div className="flex flex-wrap items-end gap-3">
        <SelectField
          label="Valid for"
          value={hours}
          onChange={(event) => setHours(Number(event.target.value))}
        >
          {EXPIRY_CHOICES.map((choice) => (
            <option key={choice.hours} value={choice.hours}>
              {choice.label}
            </option>
          ))}
        </SelectField>
        <Button tone="primary" disabled={create.isPending} onClick={() => create.mutate()}>
          Create registration token
        </Button>
      </div>
      <div className="mt-3">
        <ErrorNotice error={create.error ?? revoke.error ?? tokens.error} />
      </div>
      {created && <StartCommand token={created} onDone={() => setCreated(null)} />}
      {live.length > 0 && (
        <div className="mt-4">
          <h3 className="mb-1 text-sm font-semibold">Active registration tokens</h3>
          <ul className="divide-y divide-line text-sm">
            {live.map((token) => (
              <li key={token.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <span>
                  Created {timeAgo(token.created_at)} · expires {timeAgo(token.expires_at)}
                </span>
                <ConfirmButton
                  label="Revoke"
                  tone="danger"
                  title="Revoke this registration token?"
                  description="No new runner can register with it. Runners that already registered with it keep working."
                  confirmLabel="Revoke token"
                  onConfirm={() => revoke.mutateAsync(token.id)}
                />
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}

function StartCommand({ token, onDone }: { token: Created; onDone: () => void }) {
  const command = startCommand(window.location.origin, token.token);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(command);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  }
  return (
    <div className="mt-4 rounded-md border border-accent/50 bg-canvas p-3">
      <p className="text-sm font-medium">
        Run this on the build machine. The token is shown only now; it expires{' '}
        {timeAgo(token.expires_at)}.
      </p>
      <pre className="mt-2 overflow-x-auto rounded bg-panel p-3 font-mono text-xs">
        <code>{command}</code>
      </pre>
      <p className="mt-2 text-xs text-muted">
        The machine needs Node.js 22 or later and the <code>sparki</code> CLI (
        <code>npm run pack:cli</code> packs it, <code>npm install -g ./sparki-*.tgz</code> installs
        it; <code>npx sparki</code> works inside a Sparki checkout). Add <code>--name</code>,{' '}
        <code>--labels linux,x64</code> or <code>--capacity 2</code> to the first command as needed.
      </p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <Button onClick={copy}>Copy command</Button>
        <Button onClick={onDone}>Done</Button>
        <span role="status" className="text-xs text-muted">
          {copied === 'yes' && 'Copied.'}
          {copied === 'failed' && 'Copying was refused: select the command and copy it.'}
        </span>
      </div>
    </div>
  );
}
