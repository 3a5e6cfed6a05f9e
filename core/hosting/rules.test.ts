import { describe, expect, it } from 'vitest';
import { applyHeaders, parseHeaders } from './headers';
import { matchRedirect, parseRedirects } from './redirects';

const url = (path: string) => new URL(`https://app.example${path}`);

describe('_redirects', () => {
  const { rules, problems } = parseRedirects(`
# comments and blank lines are skipped
/old            /new             301
/blog/:year/:slug  /posts/:year-:slug
/docs/*         /guide/:splat    308
/app/*          /index.html      200
/force          /elsewhere       302!
/gone           /404.html        404
`);

  it('parses rules with their statuses and no problems', () => {
    expect(problems).toEqual([]);
    expect(rules.map((rule) => [rule.from.source, rule.status, rule.force])).toEqual([
      ['/old', 301, false],
      ['/blog/:year/:slug', 302, false],
      ['/docs/*', 308, false],
      ['/app/*', 200, false],
      ['/force', 302, true],
      ['/gone', 404, false],
    ]);
  });

  it('matches placeholders and splats and keeps the query string', () => {
    expect(matchRedirect(rules, url('/old?x=1'))).toEqual({
      location: '/new?x=1',
      status: 301,
      force: false,
    });
    expect(matchRedirect(rules, url('/blog/2026/hello'))?.location).toBe('/posts/2026-hello');
    expect(matchRedirect(rules, url('/docs/a/b/c'))?.location).toBe('/guide/a/b/c');
    expect(matchRedirect(rules, url('/app/settings'))).toMatchObject({
      location: '/index.html',
      status: 200,
    });
    expect(matchRedirect(rules, url('/blog/2026'))).toBeNull();
    expect(matchRedirect(rules, url('/unrelated'))).toBeNull();
  });

  it('takes the first matching rule', () => {
    const { rules: ordered } = parseRedirects('/a/* /first\n/a/b /second');
    expect(matchRedirect(ordered, url('/a/b'))?.location).toBe('/first');
  });

  it('reports lines it cannot use, with their numbers', () => {
    const { rules: some, problems: bad } = parseRedirects(
      '/ok /fine\nnoslash /x\n/a /b 418\n/c https://x.example 200\n/d',
    );
    expect(some).toHaveLength(1);
    expect(bad.map((p) => p.line)).toEqual([2, 3, 4, 5]);
    expect(bad[1]?.message).toContain('418');
  });
});

describe('_headers', () => {
  const { rules, problems } = parseHeaders(`
/*
  X-Frame-Options: DENY
  Link: </style.css>; rel=preload
/assets/*
  Cache-Control: public, max-age=31536000, immutable
  Link: </font.woff2>; rel=preload
/public/*
  ! X-Frame-Options
/users/:id
  X-User: :id
`);

  it('parses blocks', () => {
    expect(problems).toEqual([]);
    expect(rules).toHaveLength(4);
  });

  it('applies every matching block, joining repeated headers and removing detached ones', () => {
    const headers = new Headers({ 'content-type': 'text/css' });
    applyHeaders(rules, '/assets/app.css', headers);
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('cache-control')).toContain('immutable');
    expect(headers.get('link')).toBe('</style.css>; rel=preload, </font.woff2>; rel=preload');

    const open = new Headers();
    applyHeaders(rules, '/public/page', open);
    expect(open.has('x-frame-options')).toBe(false);

    const user = new Headers();
    applyHeaders(rules, '/users/42', user);
    expect(user.get('x-user')).toBe('42');
  });

  it('reports malformed lines', () => {
    const { problems: bad } = parseHeaders('  X-Early: 1\nnoslash\n/ok\n  not a header');
    expect(bad.map((p) => p.line)).toEqual([1, 2, 4]);
  });
});
