import { type ReactNode, type SelectHTMLAttributes, useId, useState } from 'react';
import { Button } from '../../components/ui';

/** A labelled select, like `Field` for inputs. */
export function SelectField({
  label,
  children,
  ...props
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; children: ReactNode }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <select
        id={id}
        className="rounded-md border border-line bg-panel px-3 py-2 text-sm"
        {...props}
      >
        {children}
      </select>
    </div>
  );
}

/** Copies a secret to the clipboard and says so; the secret stays selectable for manual copy. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
        } catch {
          setCopied(false);
        }
      }}
    >
      <span aria-live="polite">{copied ? 'Copied' : label}</span>
    </Button>
  );
}

/** A secret the API returns once: shown until the user says it is saved. */
export function ShownOnce({
  title,
  children,
  onDone,
}: {
  title: string;
  children: ReactNode;
  onDone: () => void;
}) {
  return (
    <div
      role="status"
      className="flex flex-col gap-3 rounded-md border border-warn/50 bg-warn/10 p-4"
    >
      <p className="font-medium">{title}</p>
      <p className="text-sm text-muted">
        Shown only now: store it safely before leaving this page.
      </p>
      {children}
      <div>
        <Button onClick={onDone}>I have saved it</Button>
      </div>
    </div>
  );
}
