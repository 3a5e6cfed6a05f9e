import type { ReactNode } from 'react';
import { Button } from '../../components/ui';

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
