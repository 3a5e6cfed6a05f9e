import { useVirtualizer } from '@tanstack/react-virtual';
import {
  type KeyboardEvent,
  type MouseEvent,
  useCallback,
  useDeferredValue,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { Button } from '../../components/ui';
import {
  ansiTokens,
  buildRows,
  findMatches,
  formatLineRange,
  type LineRange,
  markTokens,
  parseLineRange,
  selectLines,
  stepMatch,
  type Token,
  type ViewLine,
} from './log-model';
import { LINE_HEIGHT, LineRow, STEP_HEIGHT, StepRow } from './log-rows';
import type { LiveLog } from './use-live-log';
import './log.css';
import { useNow } from './use-now';

/** Within this many pixels of the end counts as "at the bottom": following resumes. */
const BOTTOM_SLACK = 8;
const TOKEN_CACHE_MAX = 5000;

/**
 * The log: a virtual list (only the rows in view are in the DOM) of step headings and lines,
 * ANSI colours as styled spans, search, `#L` permalinks, and following the end while the reader
 * is at the bottom.
 */
export function LogView({
  buildId,
  live,
  finished,
}: {
  buildId: string;
  live: LiveLog;
  /** The build has ended (by its status), even if the log's socket has not said so. */
  finished: boolean;
}) {
  const { buffer, version, steps } = live;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [selection, setSelection] = useState<LineRange | null>(() =>
    parseLineRange(window.location.hash),
  );
  // A permalink is read where it points, not at the end.
  const [follow, setFollow] = useState(() => parseLineRange(window.location.hash) === null);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const [matchIndex, setMatchIndex] = useState(-1);
  const scrollRef = useRef<HTMLDivElement>(null);
  const tokenCache = useRef(new Map<number, Token[]>());
  const pendingJump = useRef<number | null>(selection?.start ?? null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: version says the buffer grew
  const { rows, rowOf } = useMemo(
    () => buildRows(buffer.lines, steps, collapsed),
    [buffer, version, steps, collapsed],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: version says the buffer grew
  const matches = useMemo(
    () => findMatches(buffer.lines, deferredQuery),
    [buffer, version, deferredQuery],
  );
  const currentMatch = matchIndex >= 0 ? (matches[matchIndex] ?? null) : null;
  const running = steps?.some((step) => step.status === 'running') ?? false;
  const now = useNow(running);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => (rows[index]?.kind === 'step' ? STEP_HEIGHT : LINE_HEIGHT),
    overscan: 30,
  });

  const tokensOf = useCallback((line: ViewLine): Token[] => {
    const cache = tokenCache.current;
    let tokens = cache.get(line.seq);
    if (!tokens) {
      if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
      tokens = ansiTokens(line.text);
      cache.set(line.seq, tokens);
    }
    return tokens;
  }, []);

  /** Brings line `seq` into view (opening its step if collapsed); false if it is not here yet. */
  const reveal = useCallback(
    (seq: number, align: 'start' | 'center') => {
      const line = buffer.lines[seq - 1];
      if (!line) return false;
      if (line.step_id && collapsed.has(line.step_id)) {
        const stepId = line.step_id;
        setCollapsed((open) => new Set([...open].filter((id) => id !== stepId)));
        pendingJump.current = seq;
        return true;
      }
      const index = rowOf[seq] ?? -1;
      if (index < 0) return false;
      virtualizer.scrollToIndex(index, { align });
      return true;
    },
    [buffer, collapsed, rowOf, virtualizer],
  );

  // Follow the end as lines arrive; jump to a permalink once its line has arrived.
  useLayoutEffect(() => {
    if (pendingJump.current !== null) {
      const seq = pendingJump.current;
      if (buffer.lines[seq - 1] && (rowOf[seq] ?? -1) >= 0) {
        pendingJump.current = null;
        reveal(seq, 'center');
      }
      return;
    }
    if (follow && rows.length > 0) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
  }, [rows, rowOf, follow, buffer, reveal, virtualizer]);

  // The fragment can change without a reload (the back button, an edited address).
  useEffect(() => {
    const onHash = () => {
      const range = parseLineRange(window.location.hash);
      setSelection(range);
      if (range) {
        setFollow(false);
        if (!reveal(range.start, 'center')) pendingJump.current = range.start;
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [reveal]);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    setFollow(atBottom);
  }, []);

  const onNumber = useCallback((seq: number, event: MouseEvent) => {
    setSelection((current) => {
      const next = selectLines(current, seq, event.shiftKey);
      window.history.replaceState(window.history.state, '', formatLineRange(next));
      return next;
    });
    setFollow(false);
  }, []);

  const onToggle = useCallback((stepId: string) => {
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(stepId)) next.delete(stepId);
      else next.add(stepId);
      return next;
    });
  }, []);

  function go(direction: 1 | -1) {
    const next = stepMatch(matches.length, matchIndex, direction);
    setMatchIndex(next);
    const seq = matches[next];
    if (seq === undefined) return;
    setFollow(false);
    reveal(seq, 'center');
  }

  function onSearchKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'Enter') {
      event.preventDefault();
      go(event.shiftKey ? -1 : 1);
    } else if (event.key === 'Escape') {
      setQuery('');
      setMatchIndex(-1);
    }
  }

  function toBottom() {
    // A permalink to a line that never came no longer holds the view.
    pendingJump.current = null;
    setFollow(true);
    if (rows.length > 0) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
  }

  const allCollapsed = steps !== null && steps.length > 0 && collapsed.size >= steps.length;

  return (
    <section aria-label="Build log" className="rounded-lg border border-line bg-panel">
      <div className="flex flex-wrap items-center gap-2 border-b border-line p-2 text-sm">
        <label className="flex items-center gap-2">
          <span className="sr-only">Search the log</span>
          <input
            type="search"
            placeholder="Search the log"
            value={query}
            onChange={(event) => {
              setQuery(event.target.value);
              setMatchIndex(-1);
            }}
            onKeyDown={onSearchKey}
            className="w-48 rounded-md border border-line bg-canvas px-2 py-1"
          />
        </label>
        <Button onClick={() => go(-1)} disabled={matches.length === 0} aria-label="Previous match">
          ↑
        </Button>
        <Button onClick={() => go(1)} disabled={matches.length === 0} aria-label="Next match">
          ↓
        </Button>
        <span className="text-muted" aria-live="polite">
          {deferredQuery
            ? matches.length === 0
              ? 'No matches'
              : `${matchIndex >= 0 ? matchIndex + 1 : 0} of ${matches.length}`
            : ''}
        </span>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          {steps && steps.length > 0 && (
            <Button
              onClick={() =>
                setCollapsed(allCollapsed ? new Set() : new Set(steps.map((step) => step.id)))
              }
            >
              {allCollapsed ? 'Expand all' : 'Collapse all'}
            </Button>
          )}
          <Button
            aria-pressed={follow}
            onClick={() => (follow ? setFollow(false) : toBottom())}
            title="Keep the newest line in view"
          >
            {follow ? 'Following' : 'Follow'}
          </Button>
          <a
            href={`/api/builds/${buildId}/logs.txt`}
            download
            className="rounded-md border border-line px-3 py-2 font-medium hover:bg-canvas"
          >
            Download
          </a>
        </div>
      </div>
      <div
        ref={scrollRef}
        onScroll={onScroll}
        data-testid="log-scroller"
        className="build-log h-[70vh] overflow-auto bg-canvas font-mono text-xs"
      >
        {rows.length === 0 ? (
          <p className="p-4 font-sans text-sm text-muted">
            {live.connection === 'ended' || finished
              ? 'This build printed nothing.'
              : 'Waiting for output…'}
          </p>
        ) : (
          <div
            role="log"
            aria-label="Log lines"
            style={{ height: virtualizer.getTotalSize(), position: 'relative' }}
          >
            {virtualizer.getVirtualItems().map((item) => {
              const row = rows[item.index]!;
              return (
                <div
                  key={item.key}
                  style={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    minWidth: '100%',
                    transform: `translateY(${item.start}px)`,
                  }}
                >
                  {row.kind === 'step' ? (
                    <StepRow row={row} now={now} onToggle={onToggle} />
                  ) : (
                    <LineRow
                      line={row.line}
                      tokens={markTokens(tokensOf(row.line), deferredQuery)}
                      selected={
                        selection !== null &&
                        row.line.seq >= selection.start &&
                        row.line.seq <= selection.end
                      }
                      current={currentMatch === row.line.seq}
                      onNumber={onNumber}
                    />
                  )}
                </div>
              );
            })}
          </div>
        )}
      </div>
      {!follow && rows.length > 0 && (
        <div className="border-t border-line p-2 text-right text-sm">
          <Button onClick={toBottom}>Jump to the end</Button>
        </div>
      )}
    </section>
  );
}
