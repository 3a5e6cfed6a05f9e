import { Resend } from 'resend';
import { ApiError } from '../errors';
import type { Mailer } from './mailer';

export interface ResendSettings {
  apiKey: string;
  from: string;
  /** Resend's API unless set: a compatible endpoint (the tests' local stand-in). */
  baseUrl?: string | undefined;
}

/** Transactional mail through Resend's HTTP API (works from Workers: it is plain `fetch`). */
export function resendMailer(settings: ResendSettings): Mailer {
  const client = new Resend(settings.apiKey, { baseUrl: settings.baseUrl });
  return {
    async send(message) {
      const { error } = await client.emails.send({
        from: settings.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
      if (error) {
        // The mail carries a one-time link; failing loudly lets the user ask again.
        throw new ApiError('bad_gateway', 'The mail could not be sent; try again shortly', {
          provider: 'resend',
          reason: error.name,
        });
      }
    },
  };
}
