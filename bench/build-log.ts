import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { type ViewerMessage, ViewerMessageSchema } from '../core/log-stream';
import { startBuildStack } from '../test/browser/build-stack';

/**
 * The build page in headless Chromium against the real stack and a real `sparki runner`
 * (web/dist must be built: `npm run web:build`):
 * - a finished 100,000-line log: time to open it (every line in the page's buffer, the end in
 *   view), frame intervals while scrolling it, and the page's JS heap;
 * - live lines: how long after the platform sends a line (seen by a second viewer, a Node
 *   WebSocket on the same machine and clock) the line is in the page's DOM.
 */
const BIG_LINES = 100_000;
const PROBES = 200;

const BIG_BUILD = `
const colours = [31, 32, 33, 34, 35, 36];
let out = '';
for (let i = 1; i <= ${BIG_LINES}; i++) {
  out += i % 10 === 0
    ? '\\x1b[' + colours[i % 6] + 'mcoloured line ' + i + '\\x1b[0m with some plain text after it\\n'
    : 'line ' + i + ' of a long build log, long enough to look like real compiler output\\n';
  if (out.length > 1 << 16) { process.stdout.write(out); out = ''; }
}
process.stdout.write(out);
require('node:fs').mkdirSync('dist', { recursive: true });
require('node:fs').writeFileSync('dist/index.html', 'ok');
`;

// A line every 100 ms: each is shipped on its own (the runner batches for 200 ms at most).
const PROBE_BUILD = `
let n = 0;
const timer = setInterval(() => {
  console.log('probe ' + ++n);
  if (n < ${PROBES}) return;
  clearInterval(timer);
  require('node:fs').mkdirSync('dist', { recursive: true });
  require('node:fs').writeFileSync('dist/index.html', 'ok');
}, 100);
`;

// Run in the page (the Node project's types have no DOM, so these are source text).

/** True once the page's buffer holds `lines` lines and a row is on screen. */
const OPENED = (lines: number) => `
  Number.parseInt(document.querySelector('[data-testid="log-count"]')?.textContent ?? '', 10) >= ${lines}
  && document.querySelector('[data-seq]') !== null`;

/**
 * Scrolls the log a screen a frame from the top (1,000 frames: some 31,000 lines at 1280×900), then jumps to
 * 100 random places, as a reader dragging the scrollbar; the frame intervals of each.
 */
const SCROLL = `(async () => {
  const scroller = document.querySelector('[data-testid="log-scroller"]');
  const screen = scroller.clientHeight;
  const height = scroller.scrollHeight;
  scroller.scrollTop = 0;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  await frame();
  const steady = [];
  const jumps = [];
  let last = await frame();
  for (let i = 0; i < 1000; i++) {
    scroller.scrollTop = (i + 1) * screen;
    const now = await frame();
    steady.push(now - last);
    last = now;
  }
  for (let i = 0; i < 100; i++) {
    scroller.scrollTop = Math.random() * height;
    const now = await frame();
    jumps.push(now - last);
    last = now;
  }
  return { steady, jumps };
})()`;

/** Records in window.__seen when each log row (by sequence number) first enters the DOM. */
const ROW_SPY = `
  const seen = {};
  window.__seen = seen;
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof HTMLElement)) continue;
        for (const row of [node, ...node.querySelectorAll('[data-seq]')]) {
          const seq = Number(row.dataset.seq);
          if (seq && !(seq in seen)) seen[seq] = now;
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
`;

function quantiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `n=${sorted.length} p50 ${at(0.5).toFixed(1)} ms  p95 ${at(0.95).toFixed(1)} ms  max ${at(1).toFixed(1)} ms`;
}

async function heapMb(page: Page): Promise<{ used: number; afterGc: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((metric) => metric.name === 'JSHeapUsedSize')!.value / 2 ** 20;
  };
  const used = await read();
  await cdp.send('HeapProfiler.collectGarbage');
  const afterGc = await read();
  await cdp.detach();
  return { used, afterGc };
}

export async function benchBuildLog(): Promise<void> {
  const builds = await startBuildStack('bench');
  const { stack, api, owner } = builds;
  try {
    const startBuild = async (slug: string, script: string) =>
      (await builds.startScriptBuild(slug, script)).build;

    async function finished(buildId: string) {
      for (;;) {
        const build = await api<{ status: string }>('GET', `/api/builds/${buildId}`);
        if (['succeeded', 'failed', 'canceled', 'timed_out'].includes(build.status)) return build;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }

    /** A viewer socket in Node, as the page opens one; resolves once open. */
    async function watch(buildId: string, onMessage: (message: ViewerMessage, at: number) => void) {
      const { ticket } = await api<{ ticket: string }>('POST', '/api/ws-tickets', {
        purpose: 'build-logs',
        resource_id: buildId,
      });
      const socket = new WebSocket(
        `${stack.base.replace('http', 'ws')}/api/builds/${buildId}/logs/live`,
        ['sparki.v1', `ticket.${ticket}`],
      );
      socket.on('message', (data) => {
        const at = performance.timeOrigin + performance.now();
        onMessage(ViewerMessageSchema.parse(JSON.parse(String(data))), at);
      });
      const closed = new Promise((resolve) => socket.on('close', resolve));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return { closed };
    }

    async function signedInPage() {
      const page = await stack.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await stack.signIn(page, owner.email);
      return page;
    }

    // A finished 100,000-line log.
    const big = await startBuild('big-log', BIG_BUILD);
    const shipped = performance.now();
    const bigBuild = await finished(big.id);
    console.log(
      `build log: ${BIG_LINES} lines shipped by the runner in ${((performance.now() - shipped) / 1000).toFixed(1)} s (${bigBuild.status})`,
    );
    const page = await signedInPage();
    const opening = performance.now();
    await page.goto(`/builds/${big.id}`);
    await page.waitForSelector('[data-seq]', { timeout: 120_000 });
    const firstRows = performance.now() - opening;
    await page.waitForFunction(OPENED(BIG_LINES), undefined, { timeout: 120_000, polling: 50 });
    const opened = performance.now() - opening;
    const total = Number.parseInt((await page.getByTestId('log-count').textContent()) ?? '0', 10);
    console.log(
      `build log: open a ${total}-line log: first rows ${firstRows.toFixed(0)} ms, all lines in the page ${opened.toFixed(0)} ms`,
    );

    // Scroll top to bottom, a screenful per frame, and time the frames.
    const frames = (await page.evaluate(SCROLL)) as { steady: number[]; jumps: number[] };
    console.log(
      `build log: frame interval, scrolling a screen a frame   ${quantiles(frames.steady)}`,
    );
    console.log(
      `build log: frame interval, jumping to random places    ${quantiles(frames.jumps)}`,
    );
    const heap = await heapMb(page);
    console.log(
      `build log: JS heap with ${total} lines: ${heap.used.toFixed(1)} MB used, ${heap.afterGc.toFixed(1)} MB after GC`,
    );
    await page.close();

    // Live lines: platform → page.
    const probe = await startBuild('probe-log', PROBE_BUILD);
    const livePage = await signedInPage();
    await livePage.addInitScript(ROW_SPY);
    await livePage.goto(`/builds/${probe.id}`);
    await livePage.waitForSelector('[data-testid="log-connection"][data-state="live"]');

    const sent: Record<number, number> = {};
    let caughtUp = false;
    const { closed } = await watch(probe.id, (message, now) => {
      if (message.type === 'caught_up') caughtUp = true;
      // Only lines sent live: the replay reached the page before this socket opened.
      if (message.type === 'lines' && caughtUp) {
        for (const line of message.lines) sent[line.seq] = now;
      }
    });
    await finished(probe.id);
    await closed;
    await livePage.waitForTimeout(500);
    const seen = (await livePage.evaluate('window.__seen')) as Record<string, number>;
    const latencies = Object.entries(sent)
      .filter(([seq]) => seen[seq] !== undefined)
      .map(([seq, at]) => seen[seq]! - at);
    const missing = Object.keys(sent).filter((seq) => seen[seq] === undefined).length;
    console.log(
      `build log: live line, platform sends → row in the page   ${quantiles(latencies)}${missing ? ` (${missing} not seen)` : ''}`,
    );
    await livePage.close();
  } finally {
    await builds.stop();
  }
}
