import { type CSSProperties, type MouseEvent, memo } from 'react';
import { StatusBadge } from '../../components/status-badge';
import { duration } from '../../lib/format';
import { type Row, stepDuration, type Token, type ViewLine } from './log-model';

/** The log's rows: a step heading and a line (ANSI colours as styled spans). */

export const LINE_HEIGHT = 20;
export const STEP_HEIGHT = 32;

function tokenStyle(token: Token): CSSProperties | undefined {
  if (!token.fg && !token.bg && !token.bold && !token.dim && !token.italic && !token.underline) {
    return undefined;
  }
  return {
    color: token.fg,
    backgroundColor: token.bg,
    fontWeight: token.bold ? 600 : undefined,
    opacity: token.dim ? 0.7 : undefined,
    fontStyle: token.italic ? 'italic' : undefined,
    textDecoration: token.underline ? 'underline' : undefined,
  };
}

function Tokens({ tokens }: { tokens: Token[] }) {
  return tokens.map((token, index) => {
    const style = tokenStyle(token);
    // Tokens of a line never reorder: the index is a stable key.
    const key = index;
    if (token.mark) {
      return (
        <mark key={key} style={style} className="rounded-sm bg-warn/40 text-inherit">
          {token.text}
        </mark>
      );
    }
    return style ? (
      <span key={key} style={style}>
        {token.text}
      </span>
    ) : (
      <span key={key}>{token.text}</span>
    );
  });
}

const STREAM_CLASS: Record<ViewLine['stream'], string> = {
  stdout: '',
  stderr: 'border-l-2 border-danger/60',
  system: 'text-muted italic',
};

export const LineRow = memo(function LineRow({
  line,
  tokens,
  selected,
  current,
  onNumber,
}: {
  line: ViewLine;
  tokens: Token[];
  selected: boolean;
  current: boolean;
  onNumber: (seq: number, event: MouseEvent) => void;
}) {
  return (
    <div
      data-seq={line.seq}
      data-selected={selected || undefined}
      data-current-match={current || undefined}
      className={`flex min-w-max ${STREAM_CLASS[line.stream]} ${
        selected ? 'bg-accent/15' : current ? 'bg-warn/20' : 'hover:bg-canvas'
      }`}
      style={{ height: LINE_HEIGHT, lineHeight: `${LINE_HEIGHT}px` }}
    >
      <a
        href={`#L${line.seq}`}
        aria-label={`Line ${line.seq}`}
        className="sticky left-0 w-16 shrink-0 select-none bg-inherit pr-3 text-right text-muted hover:text-ink"
        onClick={(event) => {
          event.preventDefault();
          onNumber(line.seq, event);
        }}
      >
        {line.seq}
      </a>
      <span className="whitespace-pre pr-4">
        <Tokens tokens={tokens} />
      </span>
    </div>
  );
});

export function StepRow({
  row,
  now,
  onToggle,
}: {
  row: Extract<Row, { kind: 'step' }>;
  now: number;
  onToggle: (stepId: string) => void;
}) {
  const took = stepDuration(row.step, now);
  return (
    <div className="flex items-center" style={{ height: STEP_HEIGHT }}>
      <button
        type="button"
        aria-expanded={!row.collapsed}
        onClick={() => onToggle(row.stepId)}
        className="flex w-full min-w-max items-center gap-2 border-y border-line bg-panel px-2 py-1 text-left font-sans text-sm hover:bg-canvas"
      >
        <span aria-hidden className="inline-block w-4 text-muted">
          {row.collapsed ? '▸' : '▾'}
        </span>
        <span className="font-medium">{row.step?.name ?? row.stepId}</span>
        {row.step && <StatusBadge status={row.step.status} />}
        <span className="text-xs text-muted">
          {took === null ? '' : duration(took)}
          {row.lines > 0 ? ` · ${row.lines} line${row.lines === 1 ? '' : 's'}` : ''}
        </span>
      </button>
    </div>
  );
}
