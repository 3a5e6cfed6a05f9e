import { afterEach } from 'vitest';
import { reportPagesOf } from './page-report';

// Here rather than in page-report.ts: bench/ imports the harness outside a vitest run.
afterEach(({ task }) => reportPagesOf(task));
