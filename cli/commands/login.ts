import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { api, describeFailure, isErrorBody, request } from '../api';
import {
  credentialsPath,
  platformUrl,
  readCredentials,
  removeCredential,
  resolveTarget,
  saveCredential,
  signedInTarget,
} from '../config';
import { CliError, EXIT } from '../errors';
import { action } from '../output';

interface DeviceCode {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

interface DeviceToken {
  access_token: string;
  token_id: string;
  workspace_id: string;
  scope: string;
}

interface Me {
  id: string;
  email: string;
  display_name: string | null;
}

/** Usage errors of these commands (unknown option, missing value) exit 2, as docs/cli.md says. */
function usageExits(command: Command): Command {
  return command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT.usage));
}

const URL_HELP =
  'the platform, e.g. https://sparki.example.com (default: $SPARKI_URL, or the last one signed in to)';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Asks for a device code, shows it, and polls until someone approves or denies it (RFC 8628). */
async function deviceLogin(url: string): Promise<DeviceToken> {
  // No token: the device is not signed in yet, whatever SPARKI_TOKEN says.
  const target = { url, token: undefined };
  const code = await api<DeviceCode>(target, 'POST', '/api/auth/device/code', {
    body: { client_name: `sparki CLI on ${hostname()}`.slice(0, 100) },
  });
  say(`To sign in, open ${code.verification_uri} and enter the code: ${code.user_code}`);
  say(`Or open: ${code.verification_uri_complete}`);
  say('Waiting for approval…');
  let interval = code.interval;
  const deadline = Date.now() + code.expires_in * 1000;
  while (Date.now() < deadline) {
    await sleep(interval * 1000);
    const response = await request<DeviceToken>(target, 'POST', '/api/auth/device/token', {
      body: {
        device_code: code.device_code,
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      },
    });
    if (response.status === 200 && response.body) return response.body;
    const errorCode = isErrorBody(response.body) ? response.body.error.code : undefined;
    if (errorCode === 'authorization_pending') continue;
    if (errorCode === 'slow_down' && isErrorBody(response.body)) {
      const details = response.body.error.details as { interval?: number } | undefined;
      interval = details?.interval ?? interval + 5;
      continue;
    }
    if (errorCode === 'access_denied') throw new CliError('the sign-in request was denied');
    if (errorCode === 'expired_token') {
      throw new CliError('the code expired before it was approved; run `sparki login` again');
    }
    throw new CliError(describeFailure(response));
  }
  throw new CliError('the code expired before it was approved; run `sparki login` again');
}

export function loginCommand(): Command {
  return usageExits(
    new Command('login')
      .description(
        'sign in to a Sparki platform in the browser (device code) and keep the token in the credentials file',
      )
      .option('--url <url>', URL_HELP)
      .option(
        '--token <token>',
        'store this personal access token instead of signing in in the browser (for CI: or just set SPARKI_TOKEN)',
      )
      .action(
        action(async (options: { url?: string; token?: string }) => {
          const { url } = await resolveTarget({ url: options.url });
          const granted = options.token ? { access_token: options.token } : await deviceLogin(url);
          const me = await api<Me>({ url, token: granted.access_token }, 'GET', '/api/me');
          await saveCredential(url, {
            token: granted.access_token,
            ...('token_id' in granted
              ? {
                  token_id: granted.token_id,
                  workspace_id: granted.workspace_id,
                  scope: granted.scope,
                }
              : {}),
            email: me.email,
            created_at: new Date().toISOString(),
          });
          say(`Signed in to ${url} as ${me.email}`);
          say(`Token stored in ${credentialsPath()}`);
        }),
      ),
  );
}

export function logoutCommand(): Command {
  return usageExits(
    new Command('logout')
      .description('revoke the stored token of a platform and remove it from the credentials file')
      .option('--url <url>', URL_HELP)
      .action(
        action(async (options: { url?: string }) => {
          const file = await readCredentials();
          const given = options.url ?? process.env.SPARKI_URL ?? file.default_url;
          if (!given) {
            say('Not signed in anywhere');
            return;
          }
          const url = platformUrl(given);
          const stored = file.platforms[url];
          if (!stored) {
            say(`Not signed in to ${url}`);
            return;
          }
          const response = await request({ url, token: stored.token }, 'DELETE', '/api/auth/token');
          // 401: the token was already revoked or expired; there is nothing left to revoke.
          if (response.status !== 204 && response.status !== 401) {
            throw new CliError(`could not revoke the token: ${describeFailure(response)}`);
          }
          await removeCredential(url);
          say(`Signed out of ${url}`);
        }),
      ),
  );
}

export function whoamiCommand(): Command {
  return usageExits(
    new Command('whoami')
      .description('the signed-in user of a platform')
      .option('--url <url>', URL_HELP)
      .option('--token <token>', 'use this token (default: $SPARKI_TOKEN, or the stored one)')
      .option('--json', 'print JSON only')
      .action(
        action(async (options: { url?: string; token?: string; json?: boolean }) => {
          const target = await signedInTarget(options);
          const me = await api<Me>(target, 'GET', '/api/me');
          if (options.json) {
            say(JSON.stringify({ ...me, url: target.url }));
            return;
          }
          say(`${me.email}${me.display_name ? ` (${me.display_name})` : ''} on ${target.url}`);
        }),
      ),
  );
}
