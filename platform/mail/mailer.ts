export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export const MAILBOX_PREFIX = 'mailbox';

function mailboxPrefix(to: string): string {
  return `${MAILBOX_PREFIX}/${encodeURIComponent(to.toLowerCase())}/`;
}

/**
 * The development mailer: delivers nothing, keeps each message in R2 so the dev stack (GET
 * /dev/mailbox/:email) and tests can read it, and prints it where `npm run dev` runs, so a link
 * it carries can be opened from there. Never used in production (see `mailerFor`): that is why
 * this one line may hold an address and a token, which the logger would scrub.
 */
export function recordingMailer(bucket: R2Bucket): Mailer {
  return {
    async send(message) {
      console.log(`\n  Mail to ${message.to}: ${message.subject}\n  ${message.text}\n`);
      const key = `${mailboxPrefix(message.to)}${new Date().toISOString()}-${crypto.randomUUID()}.json`;
      await bucket.put(key, JSON.stringify({ ...message, sent_at: new Date().toISOString() }), {
        httpMetadata: { contentType: 'application/json' },
      });
    },
  };
}

export async function readMailbox(
  bucket: R2Bucket,
  to: string,
): Promise<(MailMessage & { sent_at: string })[]> {
  const listed = await bucket.list({ prefix: mailboxPrefix(to) });
  const messages = await Promise.all(
    listed.objects.map(async (object) =>
      (await bucket.get(object.key))?.json<MailMessage & { sent_at: string }>(),
    ),
  );
  return messages
    .filter((message) => message !== undefined)
    .sort((a, b) => a.sent_at.localeCompare(b.sent_at));
}

/** A link to a dashboard page carrying a token in the fragment: browsers never send it, so it stays out of server and proxy logs. */
export function tokenLink(publicUrl: string, page: string, token: string): string {
  return `${publicUrl}/${page}#token=${token}`;
}
