import { useId, useState } from 'react';
import { Button } from '../../components/ui';

/** A read-only value with a copy button; the text stays selectable when the clipboard refuses. */
export function CopyValue({
  label,
  value,
  secret,
}: {
  label: string;
  value: string;
  secret?: boolean;
}) {
  const id = useId();
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  }
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <div className="flex flex-wrap items-center gap-2">
        <input
          id={id}
          readOnly
          value={value}
          data-secret={secret ? 'true' : undefined}
          onFocus={(event) => event.currentTarget.select()}
          className="min-w-0 flex-1 rounded-md border border-line bg-canvas px-3 py-2 font-mono text-sm"
        />
        <Button onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
          Copy
        </Button>
        <span aria-live="polite" className="text-xs text-muted">
          {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Copy failed: select the text' : ''}
        </span>
      </div>
    </div>
  );
}
