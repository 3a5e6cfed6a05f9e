import { auditRoute } from './audit-log';
import { membersRoute } from './members';
import { newWorkspaceRoute } from './new-workspace';
import { runnersRoute } from './runners';
import { settingsRoute } from './settings';

export const appRoutes = [newWorkspaceRoute] as const;
export const workspaceRoutes = [runnersRoute, membersRoute, auditRoute, settingsRoute] as const;
