import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useParams } from '@tanstack/react-router';
import { useState } from 'react';
import { api } from '../api/client';
import { meQuery, useLastWorkspace, workspacesQuery } from '../lib/session';
import { applyTheme, currentTheme, toggleTheme } from '../lib/theme';

applyTheme();

const SECTIONS = [
  { to: '/w/$workspaceId/projects', label: 'Projects' },
  { to: '/w/$workspaceId/runners', label: 'Runners' },
  { to: '/w/$workspaceId/dora', label: 'DORA' },
  { to: '/w/$workspaceId/members', label: 'Members' },
  { to: '/w/$workspaceId/audit', label: 'Audit log' },
  { to: '/w/$workspaceId/settings', label: 'Plan & usage' },
] as const;

function WorkspaceSwitcher({ current }: { current: string | null }) {
  const { data: workspaces = [] } = useQuery(workspacesQuery);
  const navigate = useNavigate();
  if (workspaces.length === 0) return null;
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="sr-only">Workspace</span>
      <select
        className="rounded-md border border-line bg-panel px-2 py-1"
        value={current ?? ''}
        onChange={(event) =>
          navigate({ to: '/w/$workspaceId/projects', params: { workspaceId: event.target.value } })
        }
      >
        {current === null && <option value="">Choose a workspace</option>}
        {workspaces.map((workspace) => (
          <option key={workspace.id} value={workspace.id}>
            {workspace.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The signed-in frame: workspace switcher, sections, account and theme; pages render inside. */
export function Shell() {
  const params = useParams({ strict: false }) as { workspaceId?: string };
  const remembered = useLastWorkspace();
  const workspaceId = params.workspaceId ?? remembered;
  const { data: me } = useQuery(meQuery);
  const [theme, setTheme] = useState(currentTheme);
  const queryClient = useQueryClient();
  const navigate = useNavigate();

  async function signOut() {
    await api.POST('/api/auth/logout');
    queryClient.clear();
    await navigate({ to: '/sign-in' });
  }

  return (
    <div className="min-h-screen">
      <header className="border-b border-line bg-panel">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-3 px-4 py-2">
          <Link to="/" className="font-bold text-accent">
            Sparki
          </Link>
          <WorkspaceSwitcher current={workspaceId} />
          {workspaceId && (
            <nav aria-label="Workspace" className="flex flex-wrap gap-1 text-sm">
              {SECTIONS.map((section) => (
                <Link
                  key={section.to}
                  to={section.to}
                  params={{ workspaceId }}
                  className="rounded px-2 py-1 hover:bg-canvas"
                  activeProps={{ className: 'font-semibold text-accent', 'aria-current': 'page' }}
                >
                  {section.label}
                </Link>
              ))}
            </nav>
          )}
          <div className="ml-auto flex items-center gap-2 text-sm">
            <button
              type="button"
              className="rounded px-2 py-1 hover:bg-canvas"
              aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
              onClick={() => setTheme(toggleTheme())}
            >
              {theme === 'dark' ? '☀' : '☾'}
            </button>
            <Link to="/account" className="rounded px-2 py-1 hover:bg-canvas">
              {me?.email ?? 'Account'}
            </Link>
            <button type="button" className="rounded px-2 py-1 hover:bg-canvas" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}
