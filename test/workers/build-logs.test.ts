import { env, runInDurableObject } from 'cloudflare:test';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest';
import { buildLogKey, type LogLine } from '../../core/log-stream';
import { MASK } from '../../core/secret-masker';
import { wsTickets } from '../../db/schema';
import { authed, newUser, postJson } from './auth-helpers';
import { fetchWorker, testDb } from './harness';
import { lines, openLive, range, seedBuild, seqs, sessionOf, ticket, watch } from './log-viewers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const setup = () => seedBuild(db);

describe('live build logs', () => {
  it('stream every line in order to a viewer connected from the start, then steps and end', async () => {
    const { owner, buildId, session } = await setup();
    const viewer = await watch(owner.access_token, buildId);
    expect(viewer.of('caught_up')).toEqual([{ type: 'caught_up', last_seq: 0 }]);
    expect(viewer.lines()).toEqual([]);

    await session.setSteps([
      { id: 'install', position: 0, name: 'Install', command: 'npm ci', status: 'running' },
      { id: 'build', position: 1, name: 'Build', command: 'npm run build', status: 'pending' },
    ]);
    await session.append(lines(1, 3, 'install'));
    // Larger than one frame: the session splits it, the order holds.
    await session.append(lines(4, 1200));
    await session.append(lines(1204, 1));
    await viewer.until((v) => v.lines().length === 1204, 'all 1204 lines');
    expect(seqs(viewer)).toEqual(range(1, 1204));
    expect(viewer.lines()[0]).toEqual({
      seq: 1,
      stream: 'stdout',
      text: 'line 1',
      step_id: 'install',
      ts: Date.parse('2026-11-23T10:00:00Z') + 1,
    });
    expect(viewer.lines().map((line) => line.text)).toEqual(range(1, 1204).map((n) => `line ${n}`));
    expect(viewer.of('steps')[0]!.steps.map((step) => step.status)).toEqual(['running', 'pending']);

    const finished = await session.finish('failed');
    expect(finished).toMatchObject({
      status: 'failed',
      lastSeq: 1204,
      logKey: buildLogKey(buildId),
    });
    await viewer.until((v) => v.closeCode !== null, 'the close');
    expect(viewer.closeCode).toBe(1000);
    const tail = viewer.frames.slice(-2);
    expect(tail[0]).toMatchObject({ type: 'steps' });
    expect(tail[1]).toEqual({ type: 'end', status: 'failed' });
    // Steps still open at the end are settled, never left running.
    const settled = viewer.of('steps').at(-1)!.steps;
    expect(settled.map((step) => step.status)).toEqual(['failed', 'skipped']);
    expect(settled[0]!.finished_at).toEqual(expect.any(String));
  });

  it('give a viewer joining mid-build the replay and then live lines, with no gap or duplicate', async () => {
    const { owner, buildId, session } = await setup();
    await session.append(lines(1, 40));
    // One line at a time until the viewer has caught up, so that lines land before, during and
    // after its upgrade.
    let appended = 40;
    let caughtUp = false;
    const appending = (async () => {
      while (!caughtUp) {
        await session.append(lines(appended + 1, 1));
        appended++;
        // Yields to the upgrade's own I/O, which shares this isolate in tests.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const viewer = await watch(owner.access_token, buildId).finally(() => {
      caughtUp = true;
    });
    await appending;
    const late = await watch(owner.access_token, buildId, '?after=30');
    await session.append(lines(appended + 1, 5));
    const total = appended + 5;
    await session.finish('succeeded');
    await viewer.until((v) => v.of('end').length === 1, 'end');
    await late.until((v) => v.of('end').length === 1, 'end');

    expect(seqs(viewer)).toEqual(range(1, total));
    expect(seqs(late)).toEqual(range(31, total));
    // The race really happened: the replay held lines appended meanwhile, and more came live.
    const mark = viewer.of('caught_up')[0]!.last_seq;
    expect(mark).toBeGreaterThan(40);
    expect(appended).toBeGreaterThan(mark);
    const markIndex = viewer.frames.findIndex((frame) => frame.type === 'caught_up');
    const replayed = viewer.frames
      .slice(0, markIndex)
      .flatMap((f) => (f.type === 'lines' ? f.lines : []));
    expect(replayed.at(-1)!.seq).toBe(mark);
  });

  it('send the same lines packed to a viewer who asks, in a fraction of the bytes', async () => {
    const { owner, buildId, session } = await setup();
    await session.append(lines(1, 30, 'install'));
    const objects = await watch(owner.access_token, buildId);
    const packed = await watch(owner.access_token, buildId, '?lines=packed');
    const late = await watch(owner.access_token, buildId, '?after=20&lines=packed');
    await session.append([...lines(31, 600), ...lines(631, 3, 'deploy')]);
    await session.append([
      { stream: 'system', text: 'Uploading', ts: Date.parse('2026-11-23T10:00:01Z') },
    ]);
    await session.finish('succeeded');
    for (const viewer of [objects, packed, late]) {
      await viewer.until((v) => v.of('end').length === 1, 'end');
    }

    expect(seqs(objects)).toEqual(range(1, 634));
    expect(packed.lines()).toEqual(objects.lines());
    expect(late.lines()).toEqual(objects.lines().slice(20));
    // Streams, steps (and none) and times survive packing.
    expect(packed.lines().at(-1)).toEqual({
      seq: 634,
      stream: 'system',
      text: 'Uploading',
      ts: Date.parse('2026-11-23T10:00:01Z'),
    });
    expect(packed.lines()[30]).toMatchObject({ stream: 'stdout', step_id: 'build' });
    expect(packed.lines()[34]).toMatchObject({ stream: 'stderr', step_id: 'build' });
    expect(objects.sentTypes).not.toContain('lines_packed');
    expect(packed.sentTypes).toContain('lines_packed');
    expect(packed.sentTypes).not.toContain('lines');
    const lineBytes = (viewer: typeof packed) =>
      viewer.frameBytes
        .filter((_, i) => viewer.sentTypes[i]!.startsWith('lines'))
        .reduce((sum, bytes) => sum + bytes, 0);
    expect(lineBytes(packed)).toBeLessThan(lineBytes(objects) / 2);
  });

  it('replay the whole log and the end to a viewer who comes after the build', async () => {
    const { owner, buildId, session } = await setup();
    await session.setSteps([
      { id: 'build', position: 0, name: 'Build', command: 'make', status: 'succeeded' },
    ]);
    await session.append(lines(1, 700));
    await session.finish('succeeded');

    const viewer = await watch(owner.access_token, buildId);
    await viewer.until((v) => v.closeCode !== null, 'the close');
    expect(viewer.closeCode).toBe(1000);
    expect(seqs(viewer)).toEqual(range(1, 700));
    expect(viewer.frames.map((frame) => frame.type)).toEqual([
      'steps',
      'lines',
      'lines',
      'caught_up',
      'end',
    ]);
    expect(viewer.of('end')).toEqual([{ type: 'end', status: 'succeeded' }]);
    expect(viewer.of('steps')[0]!.steps[0]!.status).toBe('succeeded');
  });

  it('keep every frame under the 1 MiB WebSocket message limit', async () => {
    const { owner, buildId, session } = await setup();
    const big = lines(1, 20).map((line) => ({
      ...line,
      text: `${line.text} ${'x'.repeat(60_000)}`,
    }));
    await session.append(big);
    const viewer = await watch(owner.access_token, buildId);
    await session.append(big.map((line) => ({ ...line, text: `late ${line.text}` })));
    await viewer.until((v) => v.lines().length === 40, 'all 40 big lines');
    expect(seqs(viewer)).toEqual(range(1, 40));
    // 20 lines of 60 kB each way: several frames for the replay and for the live batch.
    expect(viewer.of('lines').length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...viewer.frameBytes)).toBeLessThan(1024 * 1024);
  });

  it('answer ping with pong, and close on anything else a viewer sends', async () => {
    const { owner, buildId } = await setup();
    const response = await openLive(
      buildId,
      `sparki.v1, ticket.${await ticket(owner.access_token)}`,
    );
    const ws = response.webSocket!;
    ws.accept();
    const pong = new Promise((resolve) => {
      ws.addEventListener('message', (event) => {
        if (event.data === 'pong') resolve(event.data);
      });
    });
    const closed = new Promise((resolve) => {
      ws.addEventListener('close', (event) => resolve(event.code));
    });
    ws.send('ping');
    await expect(pong).resolves.toBe('pong');
    ws.send('{"type":"lines"}');
    await expect(closed).resolves.toBe(1003);
  });
});

describe('live build log access', () => {
  async function refusedUpgrade(response: Response, status: number) {
    expect(response.status).toBe(status);
    expect(response.webSocket).toBeNull();
    expect((await response.json<{ error: { code: string } }>()).error.code).toBe(
      status === 401 ? 'unauthorized' : 'not_found',
    );
  }

  it('refuses an upgrade without a ticket, or with a spent, expired or misdirected one', async () => {
    const { owner, buildId } = await setup();
    await refusedUpgrade(await openLive(buildId, null), 401);
    await refusedUpgrade(await openLive(buildId, 'sparki.v1'), 401);
    // A bearer token (or a cookie) is not a ticket: browsers send cookies cross-site.
    await refusedUpgrade(
      await openLive(buildId, 'sparki.v1', '', { authorization: `Bearer ${owner.access_token}` }),
      401,
    );

    const spent = await ticket(owner.access_token);
    expect((await openLive(buildId, `sparki.v1, ticket.${spent}`)).status).toBe(101);
    await refusedUpgrade(await openLive(buildId, `sparki.v1, ticket.${spent}`), 401);

    const expired = await ticket(owner.access_token);
    await db
      .update(wsTickets)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(wsTickets.ticketHash, await sha256Hex(expired)));
    await refusedUpgrade(await openLive(buildId, `sparki.v1, ticket.${expired}`), 401);

    const elsewhere = await ticket(owner.access_token, { resource_id: crypto.randomUUID() });
    await refusedUpgrade(await openLive(buildId, `sparki.v1, ticket.${elsewhere}`), 401);
    const named = await ticket(owner.access_token, { resource_id: buildId });
    expect((await openLive(buildId, `sparki.v1, ticket.${named}`)).status).toBe(101);
  });

  it('answers 404 to a stranger and for an unknown build, before any upgrade', async () => {
    const { buildId } = await setup();
    const stranger = await newUser('logs-stranger');
    await refusedUpgrade(
      await openLive(buildId, `sparki.v1, ticket.${await ticket(stranger.access_token)}`),
      404,
    );
    const { owner } = await setup();
    await refusedUpgrade(
      await openLive(crypto.randomUUID(), `sparki.v1, ticket.${await ticket(owner.access_token)}`),
      404,
    );
  });

  it('lets a workspace viewer and a read-only token watch', async () => {
    const { owner, buildId } = await setup();
    const member = await newUser('logs-viewer');
    const me = await (await fetchWorker('/api/me', authed(member.access_token))).json<{
      id: string;
    }>();
    await db.execute(sql`
      INSERT INTO memberships (workspace_id, user_id, role)
      SELECT p.workspace_id, ${me.id}, 'viewer' FROM builds b JOIN projects p ON p.id = b.project_id
      WHERE b.id = ${buildId}`);
    await watch(member.access_token, buildId);

    const { rows } = await db.execute<{ workspace_id: string }>(sql`
      SELECT p.workspace_id FROM builds b JOIN projects p ON p.id = b.project_id
      WHERE b.id = ${buildId}`);
    const created = await postJson(
      '/api/me/tokens',
      { name: 'logs', workspace_id: rows[0]!.workspace_id, scope: 'read' },
      { authorization: `Bearer ${owner.access_token}` },
    );
    const pat = await created.json<{ token: string }>();
    await watch(pat.token, buildId);
  });

  it('answers 426 to a plain GET and 400 to a bad offset or line encoding', async () => {
    const { owner, buildId } = await setup();
    const plain = await fetchWorker(`/api/builds/${buildId}/logs/live`, authed(owner.access_token));
    expect(plain.status).toBe(426);
    const bad = await openLive(
      buildId,
      `sparki.v1, ticket.${await ticket(owner.access_token)}`,
      '?after=-1',
    );
    expect(bad.status).toBe(400);
    const encoding = await openLive(
      buildId,
      `sparki.v1, ticket.${await ticket(owner.access_token)}`,
      '?lines=gzip',
    );
    expect(encoding.status).toBe(400);
    expect(await encoding.json()).toMatchObject({ error: { code: 'validation_failed' } });
  });
});

describe('build logs over HTTP', () => {
  interface Page {
    lines: LogLine[];
    next_after: number;
    has_more: boolean;
    end_status: string | null;
  }

  it('pages through the log with the last sequence number as cursor', async () => {
    const { owner, buildId, session } = await setup();
    await session.append(lines(1, 25));
    const collected: LogLine[] = [];
    let after = 0;
    let page: Page;
    do {
      const response = await fetchWorker(
        `/api/builds/${buildId}/logs?after=${after}&limit=10`,
        authed(owner.access_token),
      );
      expect(response.status).toBe(200);
      page = await response.json<Page>();
      collected.push(...page.lines);
      expect(page.next_after).toBe(page.lines.at(-1)?.seq ?? after);
      after = page.next_after;
    } while (page.has_more);
    expect(collected.map((line) => line.seq)).toEqual(range(1, 25));
    expect(page.end_status).toBeNull();

    await session.finish('succeeded');
    const end = await fetchWorker(
      `/api/builds/${buildId}/logs?after=25`,
      authed(owner.access_token),
    );
    expect(await end.json<Page>()).toEqual({
      lines: [],
      next_after: 25,
      has_more: false,
      end_status: 'succeeded',
    });
  });

  it('keeps the log from strangers and anonymous callers', async () => {
    const { buildId } = await setup();
    const stranger = await newUser('logs-http-stranger');
    for (const path of ['logs', 'logs.txt']) {
      const url = `/api/builds/${buildId}/${path}`;
      expect((await fetchWorker(url, authed(stranger.access_token))).status).toBe(404);
      expect((await fetchWorker(url)).status).toBe(401);
    }
    const { owner } = await setup();
    expect(
      (await fetchWorker('/api/builds/not-a-uuid/logs.txt', authed(owner.access_token))).status,
    ).toBe(400);
  });

  it('downloads the log as text, from the session and then from the R2 archive', async () => {
    const { owner, buildId, session } = await setup();
    await session.append([
      { stream: 'system', text: 'Cloning', ts: Date.parse('2026-11-23T10:00:00.000Z') },
      ...lines(2, 2500),
    ]);
    const running = await fetchWorker(
      `/api/builds/${buildId}/logs.txt`,
      authed(owner.access_token),
    );
    expect(running.status).toBe(200);
    expect(running.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(running.headers.get('content-disposition')).toBe(
      `attachment; filename="build-${buildId}.log"`,
    );
    const text = await running.text();
    const rows = text.trimEnd().split('\n');
    expect(rows).toHaveLength(2501);
    expect(rows[0]).toBe('2026-11-23T10:00:00.000Z [-] system: Cloning');
    expect(rows[1]).toBe('2026-11-23T10:00:00.002Z [build] stdout: line 2');
    expect(rows[2500]).toBe('2026-11-23T10:00:02.501Z [build] stderr: line 2501');

    await session.finish('succeeded');
    const archive = await env.LOGS.get(buildLogKey(buildId));
    expect(archive?.httpMetadata?.contentType).toBe('application/x-ndjson; charset=utf-8');
    const archived = (await archive!.text())
      .trimEnd()
      .split('\n')
      .map((row) => JSON.parse(row));
    expect(archived).toHaveLength(2501);
    expect(archived[1]).toEqual({
      seq: 2,
      stream: 'stdout',
      text: 'line 2',
      step_id: 'build',
      ts: Date.parse('2026-11-23T10:00:00.002Z'),
    });
    const finished = await fetchWorker(
      `/api/builds/${buildId}/logs.txt`,
      authed(owner.access_token),
    );
    expect(await finished.text()).toBe(text);

    // Once archived, the download reads the archive, not the session.
    await env.LOGS.put(
      buildLogKey(buildId),
      `${JSON.stringify({ seq: 1, stream: 'stdout', text: 'from r2', ts: 0 })}\n`,
    );
    const fromArchive = await fetchWorker(
      `/api/builds/${buildId}/logs.txt`,
      authed(owner.access_token),
    );
    expect(await fromArchive.text()).toBe('1970-01-01T00:00:00.000Z [-] stdout: from r2\n');
  });

  it('keeps colours for viewers and leaves every escape sequence out of the text download', async () => {
    const { owner, buildId, session } = await setup();
    const coloured =
      '\u001b[32m✓\u001b[39m built in \u001b[1m2.1s\u001b[22m\u001b[2K\u001b]8;;https://x.test\u0007link\u001b]8;;\u0007';
    await session.append([{ stream: 'stdout', text: coloured, stepId: 'build', ts: 0 }]);
    const plain = '1970-01-01T00:00:00.000Z [build] stdout: ✓ built in 2.1slink\n';

    const page = await fetchWorker(`/api/builds/${buildId}/logs`, authed(owner.access_token));
    expect((await page.json<{ lines: LogLine[] }>()).lines[0]!.text).toBe(coloured);
    const viewer = await watch(owner.access_token, buildId);
    expect(viewer.lines()[0]!.text).toBe(coloured);
    viewer.ws.close();
    const download = () =>
      fetchWorker(`/api/builds/${buildId}/logs.txt`, authed(owner.access_token));
    expect(await (await download()).text()).toBe(plain);

    await session.finish('succeeded');
    expect(await (await env.LOGS.get(buildLogKey(buildId)))!.text()).toContain(
      JSON.stringify(coloured),
    );
    expect(await (await download()).text()).toBe(plain);
  });
});

describe('build session', () => {
  const SECRET = 'sk_live_9f8e7d6c5b4a';
  const PASSWORD = 'pä$$/wörd+=';
  const b64 = (text: string) => btoa(text);

  it('masks secret values before they are stored, archived or sent, and keeps no copy', async () => {
    const { owner, buildId, session } = await setup();
    const viewer = await watch(owner.access_token, buildId);
    const texts = [
      `export TOKEN=${SECRET}`,
      `Authorization: Basic ${b64(`deploy:${SECRET}`)}`,
      `plain base64 ${b64(SECRET)}`,
      `json {"token":"${SECRET}"} url ?t=${encodeURIComponent(SECRET)}`,
      // PHP's json_encode escapes slashes and non-ASCII; .NET percent-encodes in lower case.
      String.raw`php {"password":"p\u00e4$$\/w\u00f6rd+="} dotnet ?p=p%c3%a4%24%24%2fw%c3%b6rd%2b%3d`,
    ];
    await session.append(
      texts.map((text, i) => ({ stream: 'stdout', text, ts: i })),
      { secrets: [SECRET, PASSWORD] },
    );
    await session.setSteps(
      [
        {
          id: 'deploy',
          position: 0,
          name: 'Deploy',
          command: `curl -H ${SECRET}`,
          status: 'running',
        },
      ],
      { secrets: [SECRET] },
    );
    const stored = await session.read();
    expect(stored).toHaveLength(5);
    expect(stored[4]!.text).toBe(`php {"password":"${MASK}"} dotnet ?p=${MASK}`);
    for (const line of stored) {
      expect(line.text).toContain(MASK);
      expect(line.text).not.toContain(SECRET);
    }
    expect(stored[0]!.text).toBe(`export TOKEN=${MASK}`);
    expect(stored[1]!.text).not.toContain(b64(SECRET).slice(0, 12));
    expect((await session.steps())![0]!.command).toBe(`curl -H ${MASK}`);

    await viewer.until((v) => v.lines().length === 5, 'the masked lines');
    expect(JSON.stringify(viewer.frames)).not.toContain(SECRET);
    expect(viewer.lines().at(-1)).toMatchObject({ text: stored[4]!.text });
    await session.finish('succeeded');
    const archive = await (await env.LOGS.get(buildLogKey(buildId)))!.text();
    expect(archive).not.toContain(SECRET);
    expect(archive).not.toContain(b64(SECRET));
    // Nothing in the object's storage holds the value, in any table.
    await runInSession(buildId, (sql) => {
      const tables = sql
        // _cf_ tables are the runtime's own (the alarm), closed to the object.
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
        )
        .toArray();
      for (const { name } of tables) {
        const dump = JSON.stringify(sql.exec(`SELECT * FROM "${name}"`).toArray());
        expect(dump, name).not.toContain(SECRET);
      }
    });
  });

  it('refuses lines and steps after the end and keeps the first outcome', async () => {
    const { buildId, session } = await setup();
    await session.append(lines(1, 2));
    expect((await session.finish('canceled')).status).toBe('canceled');
    expect(await session.append(lines(3, 1))).toEqual({ lastSeq: 2, finished: true });
    expect(
      await session.setSteps([
        { id: 'x', position: 0, name: 'X', command: 'x', status: 'running' },
      ]),
    ).toEqual({ finished: true });
    expect((await session.read()).map((line) => line.seq)).toEqual([1, 2]);
    expect(await session.finish('succeeded')).toEqual({
      status: 'canceled',
      lastSeq: 2,
      logKey: buildLogKey(buildId),
      steps: null,
    });
  });
});

function runInSession(buildId: string, check: (sql: SqlStorage) => void) {
  return runInDurableObject(sessionOf(buildId), (_instance, state) => check(state.storage.sql));
}
