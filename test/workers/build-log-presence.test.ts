import { afterAll, describe, expect, it } from 'vitest';
import { testDb } from './harness';
import { PRESENCE_INTERVAL_MS, seedBuild, type Viewer, watch } from './log-viewers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const watching = (viewer: Viewer) => viewer.of('presence').at(-1)?.watching;

describe('build log presence', () => {
  it('tell viewers how many are watching as they join and leave', async () => {
    const { owner, buildId } = await seedBuild(db);
    const first = await watch(owner.access_token, buildId);
    await first.until((v) => watching(v) === 1, 'one watching');
    const second = await watch(owner.access_token, buildId);
    // A joiner is told at once, the others with the next presence update.
    expect(watching(second)).toBe(2);
    await first.until((v) => watching(v) === 2, 'two watching');
    second.ws.close(1000, 'bye');
    await first.until((v) => watching(v) === 1, 'one watching again');
    first.ws.close(1000, 'bye');
  });

  it('answer a viewer that closes, so its socket closes at once (a page reconnects on close)', async () => {
    const { owner, buildId } = await seedBuild(db);
    const viewer = await watch(owner.access_token, buildId);
    viewer.ws.close(1000, 'bye');
    await viewer.until((v) => v.closeCode !== null, 'the close answered');
    expect(viewer.closeCode).toBe(1000);
    // A close without a code is answered too (1005 is never sent, so 1000 answers it).
    const silent = await watch(owner.access_token, buildId);
    silent.ws.close();
    await silent.until((v) => v.closeCode !== null, 'the close answered');
  });

  it('cost a frame per viewer when many join, not a frame to everyone per join', async () => {
    const { owner, buildId } = await seedBuild(db);
    const count = 60;
    const started = Date.now();
    const viewers: Viewer[] = [];
    // Ten at a time: the test database takes only so many connections at once.
    while (viewers.length < count) {
      viewers.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => watch(owner.access_token, buildId)),
        )),
      );
    }
    for (const viewer of viewers) await viewer.until((v) => watching(v) === count, `${count}`);
    const elapsed = Date.now() - started;

    const frames = viewers.reduce((sum, viewer) => sum + viewer.of('presence').length, 0);
    // Each joiner's own count, then at most one update to everyone per interval.
    const updates = 1 + Math.ceil(elapsed / PRESENCE_INTERVAL_MS);
    expect(frames).toBeLessThanOrEqual(count + updates * count);
    // Broadcasting every join to every viewer would have sent count * (count + 1) / 2 = 1,830.
    expect(frames).toBeLessThan((count * (count + 1)) / 2);

    for (const viewer of viewers.slice(0, 20)) viewer.ws.close(1000, 'bye');
    for (const viewer of viewers.slice(20)) {
      await viewer.until((v) => watching(v) === count - 20, `${count - 20} watching`);
    }
    for (const viewer of viewers.slice(20)) viewer.ws.close(1000, 'bye');
  });
});
