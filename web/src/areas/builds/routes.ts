import { appLayout } from '../../routes/base';
import { placeholder } from '../../routes/placeholder';

export const appRoutes = [placeholder(appLayout, '/builds/$buildId', 'Build')] as const;
