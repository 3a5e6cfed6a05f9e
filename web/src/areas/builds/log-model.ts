import Anser from 'anser';
import type { LogLine, StepStates } from '../../../../core/log-stream';

/**
 * The build log page's pure logic: ANSI → styled tokens, search marks, `#L10-L20` permalinks,
 * and the sequence-numbered buffer that makes reconnections seamless. No DOM, no React.
 */

/** A run of text with one style, rendered as one `<span>` (never as HTML). */
export interface Token {
  text: string;
  /** CSS colours: `var(--ansi-red)` for the 16 basic colours (log.css), else `rgb(…)`. */
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  /** Part of a search match. */
  mark?: boolean;
}

/** What a terminal shows of a line that redraws itself with `\r` (progress bars): the last draw. */
function lastDraw(text: string): string {
  if (!text.includes('\r')) return text;
  const draws = text.split('\r').filter(Boolean);
  return draws.at(-1) ?? '';
}

/** anser's 16 colours (as it writes them) → the page's theme-aware palette (log.css). */
const PALETTE: Record<string, string> = {
  '0, 0, 0': 'black',
  '187, 0, 0': 'red',
  '0, 187, 0': 'green',
  '187, 187, 0': 'yellow',
  '0, 0, 187': 'blue',
  '187, 0, 187': 'magenta',
  '0, 187, 187': 'cyan',
  '255,255,255': 'white',
  '85, 85, 85': 'bright-black',
  '255, 85, 85': 'bright-red',
  '0, 255, 0': 'bright-green',
  '255, 255, 85': 'bright-yellow',
  '85, 85, 255': 'bright-blue',
  '255, 85, 255': 'bright-magenta',
  '85, 255, 255': 'bright-cyan',
  '255, 255, 255': 'bright-white',
};

/** A CSS colour: a palette variable for the 16 basic colours, the exact colour otherwise. */
function colour(value: string | undefined, truecolor: string | undefined): string | undefined {
  if (truecolor) return `rgb(${truecolor})`;
  if (!value) return undefined;
  const name = PALETTE[value];
  return name ? `var(--ansi-${name})` : `rgb(${value})`;
}

/** A line's text as styled tokens. Cursor movements and unknown sequences are dropped. */
export function ansiTokens(text: string): Token[] {
  const entries = Anser.ansiToJson(lastDraw(text), { json: true, remove_empty: true });
  return entries
    .filter((entry) => entry.content.length > 0)
    .map((entry) => {
      const token: Token = { text: entry.content };
      const fg = colour(entry.fg, entry.fg_truecolor);
      const bg = colour(entry.bg, entry.bg_truecolor);
      if (fg) token.fg = fg;
      if (bg) token.bg = bg;
      for (const decoration of entry.decorations) {
        if (decoration === 'bold') token.bold = true;
        else if (decoration === 'dim') token.dim = true;
        else if (decoration === 'italic') token.italic = true;
        else if (decoration === 'underline') token.underline = true;
      }
      return token;
    });
}

// CSI (colours, cursor), OSC (titles, links: ended by BEL or ST) and two-character escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

/** The text a reader sees (what search looks in), without escape sequences. */
export function plainText(text: string): string {
  return lastDraw(text.replace(ANSI, ''));
}

/**
 * Splits `tokens` so that every case-insensitive occurrence of `query` in their joined text is
 * in tokens with `mark: true`, keeping each token's style (a match may span several tokens).
 */
export function markTokens(tokens: Token[], query: string): Token[] {
  if (!query) return tokens;
  const text = tokens.map((token) => token.text).join('');
  const ranges = matchRanges(text, query);
  if (ranges.length === 0) return tokens;
  const out: Token[] = [];
  let offset = 0;
  for (const token of tokens) {
    const start = offset;
    const end = offset + token.text.length;
    offset = end;
    let cursor = start;
    for (const [from, to] of ranges) {
      if (to <= cursor || from >= end) continue;
      const markFrom = Math.max(from, cursor);
      const markTo = Math.min(to, end);
      if (markFrom > cursor) out.push({ ...token, text: text.slice(cursor, markFrom) });
      out.push({ ...token, text: text.slice(markFrom, markTo), mark: true });
      cursor = markTo;
    }
    if (cursor < end) out.push({ ...token, text: text.slice(cursor, end) });
  }
  return out;
}

/** Where `query` occurs in `text` (case-insensitive, non-overlapping), as [from, to) pairs. */
export function matchRanges(text: string, query: string): [number, number][] {
  if (!query) return [];
  const haystack = text.toLowerCase();
  const needle = query.toLowerCase();
  const ranges: [number, number][] = [];
  let at = haystack.indexOf(needle);
  while (at !== -1) {
    ranges.push([at, at + needle.length]);
    at = haystack.indexOf(needle, at + needle.length);
  }
  return ranges;
}

/** The sequence numbers of the lines whose visible text contains `query`, in order. */
export function findMatches(lines: readonly ViewLine[], query: string): number[] {
  if (!query) return [];
  const needle = query.toLowerCase();
  const found: number[] = [];
  for (const line of lines) if (line.plain.toLowerCase().includes(needle)) found.push(line.seq);
  return found;
}

/** The next (or previous) match after moving from `current`, wrapping around; -1 when none. */
export function stepMatch(count: number, current: number, direction: 1 | -1): number {
  if (count === 0) return -1;
  if (current < 0) return direction === 1 ? 0 : count - 1;
  return (current + direction + count) % count;
}

/** Selected lines, by sequence number (the line numbers the page shows), `start <= end`. */
export interface LineRange {
  start: number;
  end: number;
}

/** `#L12` or `#L10-L20` (also `L20-L10`, `L10-20`); null for anything else. */
export function parseLineRange(hash: string): LineRange | null {
  const match = /^#?L(\d+)(?:-L?(\d+))?$/.exec(hash.trim());
  if (!match) return null;
  const a = Number(match[1]);
  const b = match[2] === undefined ? a : Number(match[2]);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 1 || b < 1) return null;
  return { start: Math.min(a, b), end: Math.max(a, b) };
}

export function formatLineRange(range: LineRange): string {
  return range.start === range.end ? `#L${range.start}` : `#L${range.start}-L${range.end}`;
}

/** A click on line `seq` selects it; a shift-click extends the selection from where it started. */
export function selectLines(current: LineRange | null, seq: number, extend: boolean): LineRange {
  if (!extend || !current) return { start: seq, end: seq };
  const anchor = current.start;
  return { start: Math.min(anchor, seq), end: Math.max(anchor, seq) };
}

/** A stored line as the page keeps it: with its visible text for search. */
export interface ViewLine extends LogLine {
  plain: string;
}

/**
 * The lines the page has, in sequence order, each exactly once. Lines come from the replay and
 * the live stream of one socket, then from the next socket after a reconnection (which asks to
 * resume after `lastSeq`): a line seen before is dropped, and a line that arrives ahead of a gap
 * waits until the gap is filled, so the page never shows a duplicate or a hole.
 */
export class LogBuffer {
  readonly lines: ViewLine[] = [];
  private readonly early = new Map<number, LogLine>();

  /** The last line of the unbroken run from 1: where a new socket resumes (`after`). */
  get lastSeq(): number {
    return this.lines.length;
  }

  /** Adds lines in any order; returns how many joined the log. */
  add(incoming: readonly LogLine[]): number {
    const before = this.lines.length;
    for (const line of incoming) {
      if (line.seq > this.lastSeq) this.early.set(line.seq, line);
    }
    for (
      let next = this.early.get(this.lastSeq + 1);
      next;
      next = this.early.get(this.lastSeq + 1)
    ) {
      this.early.delete(next.seq);
      this.lines.push({ ...next, plain: plainText(next.text) });
    }
    return this.lines.length - before;
  }

  /** Lines that arrived ahead of a gap (0 on a healthy stream). */
  get waiting(): number {
    return this.early.size;
  }
}

/**
 * How long to wait before reconnecting after the `attempt`-th failure in a row (from 0): 0.5, 1,
 * 2, 4 … s, capped at 10 s, plus up to 250 ms of jitter (`random` in [0, 1)) so that the viewers
 * of a restarted platform do not all come back at once.
 */
export function reconnectDelay(attempt: number, random: number): number {
  return Math.min(500 * 2 ** attempt, 10_000) + Math.floor(random * 250);
}

export type Step = StepStates[number];

/** A row of the virtual list: a step's heading or a log line. */
export type Row =
  | { kind: 'step'; stepId: string; step: Step | undefined; lines: number; collapsed: boolean }
  | { kind: 'line'; line: ViewLine };

export interface Rows {
  rows: Row[];
  /** The row index of each line by sequence number (-1: inside a collapsed step). */
  rowOf: Int32Array;
}

/**
 * The list the page renders: lines in order, a heading wherever a step's lines begin (with the
 * step's state when known), a collapsed step's lines left out, and steps without lines yet at
 * the end so the plan shows before it runs.
 */
export function buildRows(
  lines: readonly ViewLine[],
  steps: StepStates | null,
  collapsed: ReadonlySet<string>,
): Rows {
  const byId = new Map((steps ?? []).map((step) => [step.id, step]));
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (line.step_id) counts.set(line.step_id, (counts.get(line.step_id) ?? 0) + 1);
  }
  const rows: Row[] = [];
  const rowOf = new Int32Array(lines.length + 1).fill(-1);
  let current: string | undefined;
  for (const line of lines) {
    const stepId = line.step_id;
    if (stepId && stepId !== current) {
      rows.push({
        kind: 'step',
        stepId,
        step: byId.get(stepId),
        lines: counts.get(stepId) ?? 0,
        collapsed: collapsed.has(stepId),
      });
    }
    current = stepId;
    if (stepId && collapsed.has(stepId)) continue;
    rowOf[line.seq] = rows.length;
    rows.push({ kind: 'line', line });
  }
  const ordered = [...(steps ?? [])].sort((a, b) => a.position - b.position);
  for (const step of ordered) {
    if (counts.has(step.id)) continue;
    rows.push({ kind: 'step', stepId: step.id, step, lines: 0, collapsed: collapsed.has(step.id) });
  }
  return { rows, rowOf };
}

/** How long a step ran (so far, for a running one), in milliseconds; null before it starts. */
export function stepDuration(step: Step | undefined, now: number): number | null {
  if (!step?.started_at) return null;
  const end = step.finished_at ? Date.parse(step.finished_at) : now;
  return end - Date.parse(step.started_at);
}
