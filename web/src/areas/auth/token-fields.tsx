import type { Schemas } from '../../api/client';
import { SelectField } from '../../components/select-field';

export type Scope = Schemas['CreateApiToken']['scope'];

const SCOPES: { value: Scope; label: string }[] = [
  { value: 'read', label: 'read: view, like a viewer' },
  { value: 'write', label: 'write: build and deploy, like a developer' },
  { value: 'admin', label: 'admin: everything, like an admin' },
];

/** The workspace a personal access token works in and its scope (form fields `workspace_id`, `scope`). */
export function TokenTargetFields({
  workspaces,
  defaultScope,
}: {
  workspaces: readonly { id: string; name: string }[];
  defaultScope: Scope;
}) {
  return (
    <>
      <SelectField label="Workspace" name="workspace_id" required>
        {workspaces.map((workspace) => (
          <option key={workspace.id} value={workspace.id}>
            {workspace.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Scope" name="scope" defaultValue={defaultScope}>
        {SCOPES.map((scope) => (
          <option key={scope.value} value={scope.value}>
            {scope.label}
          </option>
        ))}
      </SelectField>
    </>
  );
}
