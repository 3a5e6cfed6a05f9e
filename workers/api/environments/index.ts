import { authenticated } from '../../router';
import { deploySettingsRoutes } from './deploy-settings';
import { rollbackRoutes } from './rollback';

/** `/api/environments`: an environment's deploy settings, and rolling it back. */
export const environmentsApp = authenticated(deploySettingsRoutes, rollbackRoutes);
