import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import {
  checkInvite,
  checkLeave,
  checkRemoval,
  checkRoleChange,
} from '../../../../core/membership-rules';
import { ROLES } from '../../../../core/roles';
import { api, type Schemas, unwrap } from '../../api/client';
import { ConfirmButton } from '../../components/confirm';
import { ErrorNotice } from '../../components/error-notice';
import { SelectField } from '../../components/select-field';
import { Button, Card, EmptyState, Field, PageHeader, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { formValues } from '../../lib/forms';
import { useCan } from '../../lib/roles';
import { meQuery } from '../../lib/session';
import { invitesQuery, membersQuery, workspaceQuery } from './queries';
import { membersRoute } from './routes';

type Role = Schemas['Member']['role'];
type Member = Schemas['Member'];

const ROLE_HELP: Record<Role, string> = {
  viewer: 'reads everything, changes nothing',
  developer: 'builds, deploys and edits projects',
  admin: 'also manages members, runners and settings',
  owner: 'also hands over ownership and removes owners',
};

export function Members() {
  const { workspaceId } = membersRoute.useParams();
  const isAdmin = useCan(workspaceId, 'admin');
  const { data: workspace } = useQuery(workspaceQuery(workspaceId));
  const { data: me } = useQuery(meQuery);
  const members = useQuery(membersQuery(workspaceId));
  const myRole = workspace?.role;
  const owners = members.data?.filter((member) => member.role === 'owner').length ?? 0;

  return (
    <div className="flex flex-col gap-6 [&>:first-child]:mb-0">
      <PageHeader title="Members">
        Who works in {workspace?.name ?? 'this workspace'} and what each role may do.
      </PageHeader>
      <Card title="Members">
        <ErrorNotice error={members.error} />
        {members.isPending ? (
          <Spinner />
        ) : (
          <div className="relative overflow-x-auto">
            <table className="w-full min-w-[36rem] text-left text-sm">
              <thead className="text-xs text-muted">
                <tr>
                  <th className="py-2 pr-3 font-medium">Member</th>
                  <th className="py-2 pr-3 font-medium">Role</th>
                  <th className="py-2 pr-3 font-medium">Joined</th>
                  <th className="py-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {members.data?.map((member) => (
                  <MemberRow
                    key={member.user_id}
                    workspaceId={workspaceId}
                    member={member}
                    myRole={myRole}
                    isMe={member.user_id === me?.id}
                    owners={owners}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {isAdmin && myRole && <Invites workspaceId={workspaceId} myRole={myRole} />}
      <p className="text-xs text-muted">
        Roles:{' '}
        {ROLES.map((role) => (
          <span key={role} className="mr-3 inline-block">
            <strong>{role}</strong> {ROLE_HELP[role]}
          </span>
        ))}
      </p>
    </div>
  );
}

function useMembershipChanged(workspaceId: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['workspace', workspaceId] }),
      queryClient.invalidateQueries({ queryKey: ['workspaces'] }),
    ]);
}

function MemberRow({
  workspaceId,
  member,
  myRole,
  isMe,
  owners,
}: {
  workspaceId: string;
  member: Member;
  myRole: Role | undefined;
  isMe: boolean;
  owners: number;
}) {
  const changed = useMembershipChanged(workspaceId);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const path = { id: workspaceId, userId: member.user_id };
  const changeRole = useMutation({
    mutationFn: (role: Role) =>
      unwrap(
        api.PATCH('/api/workspaces/{id}/members/{userId}', { params: { path }, body: { role } }),
      ),
    onSuccess: changed,
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE('/api/workspaces/{id}/members/{userId}', { params: { path } })),
    onSuccess: changed,
  });
  const transfer = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/workspaces/{id}/transfer', {
          params: { path: { id: workspaceId } },
          body: { user_id: member.user_id },
        }),
      ),
    onSuccess: changed,
  });
  const leave = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/workspaces/{id}/leave', { params: { path: { id: workspaceId } } })),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ['workspace', workspaceId] });
      await queryClient.invalidateQueries({ queryKey: ['workspaces'] });
      await navigate({ to: '/' });
    },
  });

  const roleChoices =
    myRole && !isMe
      ? ROLES.filter(
          (role) => role === member.role || !checkRoleChange(myRole, member.role, role, owners),
        )
      : [];
  const canRemove = myRole && !isMe && !checkRemoval(myRole, member.role, owners);
  const canTransfer = myRole === 'owner' && !isMe && member.role !== 'owner';
  const leaveRefusal = isMe && myRole ? checkLeave(myRole, owners) : null;
  const name = member.display_name ?? member.email;

  return (
    <tr className="border-t border-line align-top">
      <td className="py-2 pr-3">
        <div className="font-medium">
          {name}
          {isMe && <span className="ml-2 text-xs text-muted">(you)</span>}
        </div>
        {member.display_name && <div className="text-xs text-muted">{member.email}</div>}
        <div className="mt-1 flex flex-col gap-1">
          <ErrorNotice error={changeRole.error ?? remove.error ?? transfer.error ?? leave.error} />
        </div>
      </td>
      <td className="py-2 pr-3">
        {roleChoices.length > 1 ? (
          <select
            aria-label={`Role of ${member.email}`}
            className="rounded-md border border-line bg-panel px-2 py-1"
            value={member.role}
            disabled={changeRole.isPending}
            onChange={(event) => changeRole.mutate(event.target.value as Role)}
          >
            {roleChoices.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        ) : (
          <span>{member.role}</span>
        )}
      </td>
      <td className="py-2 pr-3 text-muted">
        <time dateTime={member.joined_at} title={member.joined_at}>
          {timeAgo(member.joined_at)}
        </time>
      </td>
      <td className="py-2">
        <div className="flex flex-wrap justify-end gap-2">
          {canTransfer && (
            <ConfirmButton
              label="Make owner"
              title={`Hand ownership to ${member.email}?`}
              description={`${member.email} becomes the owner; you stay on as an admin and can no longer manage owners.`}
              confirmLabel="Transfer ownership"
              onConfirm={() => transfer.mutateAsync()}
            />
          )}
          {canRemove && (
            <ConfirmButton
              label="Remove"
              tone="danger"
              title={`Remove ${member.email}?`}
              description={`${member.email} loses access to this workspace's projects, builds and deployments at once. Their personal access tokens stop working here.`}
              confirmLabel="Remove member"
              onConfirm={() => remove.mutateAsync()}
            />
          )}
          {isMe && (
            <ConfirmButton
              label="Leave"
              tone="danger"
              disabled={leaveRefusal !== null}
              title="Leave this workspace?"
              description="You lose access to its projects at once; only an admin can invite you back."
              confirmLabel="Leave workspace"
              onConfirm={() => leave.mutateAsync()}
            />
          )}
        </div>
        {leaveRefusal && (
          <p className="mt-1 text-right text-xs text-muted">{leaveRefusal.message}</p>
        )}
      </td>
    </tr>
  );
}

function Invites({ workspaceId, myRole }: { workspaceId: string; myRole: Role }) {
  const queryClient = useQueryClient();
  const invites = useQuery(invitesQuery(workspaceId));
  const [sent, setSent] = useState<string | null>(null);
  const roles = ROLES.filter((role) => !checkInvite(myRole, role));
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['workspace', workspaceId] });
  const invite = useMutation({
    mutationFn: (values: Record<string, string>) =>
      unwrap(
        api.POST('/api/workspaces/{id}/invites', {
          params: { path: { id: workspaceId } },
          body: { email: values.email ?? '', role: (values.role ?? 'developer') as Role },
        }),
      ),
    onSuccess: async (created) => {
      setSent(created.email);
      await refresh();
    },
  });
  const withdraw = useMutation({
    mutationFn: (inviteId: string) =>
      unwrap(
        api.DELETE('/api/workspaces/{id}/invites/{inviteId}', {
          params: { path: { id: workspaceId, inviteId } },
        }),
      ),
    onSuccess: refresh,
  });

  return (
    <Card title="Invitations">
      <form
        className="mb-4 flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          const form = event.currentTarget;
          setSent(null);
          invite.mutate(formValues(event), { onSuccess: () => form.reset() });
        }}
      >
        <div className="min-w-[16rem] flex-1">
          <Field label="Email" name="email" type="email" required autoComplete="off" />
        </div>
        <SelectField label="Role" name="role" defaultValue="developer">
          {roles.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </SelectField>
        <Button tone="primary" type="submit" disabled={invite.isPending}>
          Send invitation
        </Button>
      </form>
      <ErrorNotice error={invite.error ?? withdraw.error ?? invites.error} />
      {sent && (
        <p role="status" className="mb-3 text-sm text-ok">
          Invitation mailed to {sent}; the link is valid for seven days.
        </p>
      )}
      {invites.isPending ? (
        <Spinner />
      ) : invites.data?.length === 0 ? (
        <EmptyState title="No pending invitations">
          Invite a teammate by email above; they join with the role you choose.
        </EmptyState>
      ) : (
        <ul className="divide-y divide-line text-sm">
          {invites.data?.map((pending) => (
            <li key={pending.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <div>
                <span className="font-medium">{pending.email}</span>{' '}
                <span className="text-muted">
                  as {pending.role} · expires {timeAgo(pending.expires_at)}
                </span>
              </div>
              <ConfirmButton
                label="Revoke"
                tone="danger"
                title={`Revoke the invitation to ${pending.email}?`}
                description="The mailed link stops working. You can invite them again later."
                confirmLabel="Revoke invitation"
                onConfirm={() => withdraw.mutateAsync(pending.id)}
              />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
