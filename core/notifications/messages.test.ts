import { describe, expect, it } from 'vitest';
import type { EventDeployment, NotificationEvent } from './events';
import { discordMessage, messageBody, slackMessage, summarize } from './messages';

const project = { id: 'p1', name: 'Shop', slug: 'shop', url: 'https://sparki.example/projects/p1' };
const base = { id: 'evt', created_at: '2026-01-01T00:00:00.000Z', project };
const deployment = (values: Partial<EventDeployment> = {}): EventDeployment => ({
  id: 'd1',
  stage: 'production',
  status: 'live',
  url: 'https://shop.sparki.example',
  error: null,
  build_id: 'b1',
  dashboard_url: 'https://sparki.example/deployments/d1',
  ...values,
});

const buildFailed: NotificationEvent = {
  ...base,
  type: 'build.failed',
  build: {
    id: 'b1',
    number: 12,
    status: 'failed',
    branch: 'main',
    commit_sha: 'a1b2c3d4e5f6',
    error: 'npm run build exited with 1 <script> & more',
    url: 'https://sparki.example/builds/b1',
  },
};

describe('summaries', () => {
  it('names what happened to which project, with a link', () => {
    expect(summarize(buildFailed)).toMatchObject({
      title: 'Build #12 of Shop failed',
      detail: 'npm run build exited with 1 <script> & more',
      url: 'https://sparki.example/builds/b1',
      fields: [
        { name: 'Branch', value: 'main' },
        { name: 'Commit', value: 'a1b2c3d' },
      ],
    });
    const timedOut = { ...buildFailed, build: { ...buildFailed.build!, status: 'timed_out' } };
    expect(summarize(timedOut).title).toBe('Build #12 of Shop timed out');
    expect(
      summarize({ ...base, type: 'deployment.live', deployment: deployment({ stage: 'preview' }) }),
    ).toMatchObject({ title: 'Shop is live in preview', url: 'https://shop.sparki.example' });
    expect(
      summarize({
        ...base,
        type: 'deployment.rolled_back',
        automatic: true,
        deployment: deployment({ id: 'd2', status: 'rolled_back', error: 'health check failed' }),
        restored: deployment(),
      }),
    ).toMatchObject({
      title: 'Production of Shop was rolled back automatically',
      detail: 'health check failed',
      fields: [
        { name: 'Rolled back', value: 'https://sparki.example/deployments/d1' },
        { name: 'Serving now', value: 'https://shop.sparki.example' },
      ],
    });
    expect(
      summarize({
        ...base,
        type: 'runner.offline',
        runner: { id: 'r1', name: 'mac-mini', labels: ['macos', 'arm64'], last_seen_at: null },
      }),
    ).toMatchObject({
      title: 'Runner “mac-mini” went offline',
      fields: [{ name: 'Labels', value: 'macos, arm64' }],
    });
  });
});

describe('Slack messages', () => {
  it('has a plain-text fallback and escapes mrkdwn control characters in blocks', () => {
    const message = slackMessage(buildFailed);
    expect(message.text).toBe('Build #12 of Shop failed');
    expect(message.blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '*<https://sparki.example/builds/b1|Build #12 of Shop failed>*\nnpm run build exited with 1 &lt;script&gt; &amp; more',
      },
    });
    expect(message.blocks[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '*Branch:* main  ·  *Commit:* a1b2c3d' }],
    });
  });

  it('keeps within Slack’s 3,000 characters per text object', () => {
    const long = { ...buildFailed, build: { ...buildFailed.build!, error: 'x'.repeat(5000) } };
    const section = slackMessage(long).blocks[0] as { text: { text: string } };
    expect(section.text.text.length).toBe(3000);
    expect(section.text.text.endsWith('…')).toBe(true);
  });
});

describe('Discord messages', () => {
  it('is one embed with colour, link and inline fields, and never mentions anyone', () => {
    const message = discordMessage({
      ...buildFailed,
      build: { ...buildFailed.build!, error: '@everyone broke it' },
    });
    expect(message).toEqual({
      content: 'Build #12 of Shop failed',
      embeds: [
        {
          title: 'Build #12 of Shop failed',
          url: 'https://sparki.example/builds/b1',
          color: 0xcf222e,
          timestamp: '2026-01-01T00:00:00.000Z',
          description: '@everyone broke it',
          fields: [
            { name: 'Branch', value: 'main', inline: true },
            { name: 'Commit', value: 'a1b2c3d', inline: true },
          ],
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });
});

describe('messageBody', () => {
  it('sends the event itself to a webhook and a chat message to Slack and Discord', () => {
    expect(messageBody('webhook', buildFailed)).toBe(buildFailed);
    expect(messageBody('slack', buildFailed)).toHaveProperty('blocks');
    expect(messageBody('discord', buildFailed)).toHaveProperty('embeds');
  });
});
