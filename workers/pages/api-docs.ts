import { Scalar } from '@scalar/hono-api-reference';
// The viewer's browser build, bundled as text (the Text rule in wrangler.toml); the package
// exports no path to it, hence the path into node_modules.
import viewer from '../../node_modules/@scalar/api-reference/dist/browser/standalone.js';
import { newRouter } from '../router';

export const VIEWER_PATH = '/api/docs/viewer.js';

/**
 * `/api/docs`: the API reference, browsable with no internet access. The viewer comes from the
 * Worker itself, not a CDN; it loads no web fonts (the system's stand in) and leaves out the
 * features that are Scalar's hosted services (AI chat, MCP, SDK generation, sharing).
 */
export const apiDocsPages = newRouter();

apiDocsPages.get(
  '/api/docs',
  Scalar({
    url: '/api/openapi.json',
    pageTitle: 'Sparki API',
    cdn: VIEWER_PATH,
    withDefaultFonts: false,
    showDeveloperTools: 'never',
    agent: { disabled: true },
    mcp: { disabled: true },
  }),
);

apiDocsPages.get(VIEWER_PATH, (c) =>
  c.body(viewer, 200, {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=3600',
  }),
);
