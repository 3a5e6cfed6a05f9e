import { notificationsRoute } from './notifications-page';

export const projectRoutes = [notificationsRoute] as const;
