import type { ReactNode } from 'react';

/** The frame of every signed-out page: a titled panel; `status` announces what just happened. */
export function AuthCard({
  title,
  status,
  children,
}: {
  title: string;
  status?: boolean;
  children: ReactNode;
}) {
  return (
    <section
      role={status ? 'status' : undefined}
      className="flex flex-col gap-4 rounded-lg border border-line bg-panel p-6"
    >
      <h1 className="text-xl font-semibold">{title}</h1>
      {children}
    </section>
  );
}
