import type { AdminHandler } from './admin-http.js';
import { collectionStatus, triggerCollection } from './collection-handlers.js';
import { pauseScheduler, resumeScheduler, systemInfo } from './system-handlers.js';

export interface AdminRoute {
  method: 'GET' | 'POST';
  path: string;
  handler: AdminHandler;
}

/** The admin API. Writes need the admin role; the auth middleware enforces that before any handler runs. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'POST', path: '/api/admin/collect/trigger', handler: triggerCollection },
  { method: 'GET', path: '/api/admin/collect/status', handler: collectionStatus },
  { method: 'GET', path: '/api/admin/system/info', handler: systemInfo },
  { method: 'POST', path: '/api/admin/scheduler/pause', handler: pauseScheduler },
  { method: 'POST', path: '/api/admin/scheduler/resume', handler: resumeScheduler },
];
