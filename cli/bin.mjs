#!/usr/bin/env node
// The CLI is TypeScript that imports without file extensions, as the rest of the repository
// does: tsx's loader lets it run as is.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
