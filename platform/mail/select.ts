import type { Config } from '../config';
import { ApiError } from '../errors';
import { type Mailer, recordingMailer } from './mailer';
import { resendMailer } from './resend';

/**
 * Resend whenever it is configured; the recording mailer only in development. Production
 * without Resend is refused by the config check before any request gets here.
 */
export function mailerFor(config: Config, bucket: R2Bucket): Mailer {
  if (config.RESEND_API_KEY && config.MAIL_FROM) {
    return resendMailer({
      apiKey: config.RESEND_API_KEY,
      from: config.MAIL_FROM,
      baseUrl: config.RESEND_BASE_URL,
    });
  }
  if (config.APP_ENV === 'development') return recordingMailer(bucket);
  throw new ApiError('misconfigured', 'No mailer is configured: set RESEND_API_KEY and MAIL_FROM');
}
