import { ApiError } from '../api/client';

/** An API failure as the envelope tells it, with the request id support needs to find it. */
export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const apiError = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="rounded-md border border-danger/40 bg-danger/10 p-3 text-sm">
      <p className="font-medium text-danger">{message}</p>
      {apiError?.requestId && (
        <p className="mt-1 text-xs text-muted">
          {apiError.code} · request id <code className="font-mono">{apiError.requestId}</code>
        </p>
      )}
    </div>
  );
}
