import type { NotificationEvent, TargetKind } from './events';

/** What any chat message says about an event: one line, details, and where to look. */
export interface Summary {
  title: string;
  detail: string | undefined;
  url: string;
  color: number;
  fields: { name: string; value: string }[];
}

const COLORS = {
  failed: 0xcf222e,
  live: 0x1a7f37,
  rolledBack: 0xbf8700,
  offline: 0x6e7781,
  test: 0x0969da,
};

const shortSha = (sha: string | null | undefined) => (sha ? sha.slice(0, 7) : undefined);

function field(name: string, value: string | null | undefined) {
  return value ? [{ name, value }] : [];
}

function stageName(stage: string) {
  return stage === 'production' ? 'production' : 'preview';
}

export function summarize(event: NotificationEvent): Summary {
  const { project } = event;
  switch (event.type) {
    case 'build.failed': {
      const build = event.build!;
      const ended = build.status === 'timed_out' ? 'timed out' : 'failed';
      return {
        title: `Build #${build.number} of ${project.name} ${ended}`,
        detail: build.error ?? undefined,
        url: build.url,
        color: COLORS.failed,
        fields: [...field('Branch', build.branch), ...field('Commit', shortSha(build.commit_sha))],
      };
    }
    case 'deployment.live': {
      const deployment = event.deployment!;
      return {
        title: `${project.name} is live in ${stageName(deployment.stage)}`,
        detail: deployment.url ?? undefined,
        url: deployment.url ?? deployment.dashboard_url,
        color: COLORS.live,
        fields: [{ name: 'Deployment', value: deployment.dashboard_url }],
      };
    }
    case 'deployment.rolled_back': {
      const deployment = event.deployment;
      const restored = event.restored;
      const how = event.automatic ? 'rolled back automatically' : 'rolled back';
      return {
        title: `${deployment?.stage === 'preview' ? 'Preview' : 'Production'} of ${project.name} was ${how}`,
        detail: deployment?.error ?? undefined,
        url: restored?.dashboard_url ?? deployment?.dashboard_url ?? project.url,
        color: COLORS.rolledBack,
        fields: [
          ...field('Rolled back', deployment?.dashboard_url),
          ...field('Serving now', restored?.url ?? restored?.dashboard_url),
        ],
      };
    }
    case 'runner.offline': {
      const runner = event.runner!;
      return {
        title: `Runner “${runner.name}” went offline`,
        detail: `Builds of ${project.name} wait for another runner with matching labels.`,
        url: project.url,
        color: COLORS.offline,
        fields: [
          ...field('Labels', runner.labels.join(', ')),
          ...field('Last seen', runner.last_seen_at),
        ],
      };
    }
    case 'test':
      return {
        title: `Test notification for ${project.name}`,
        detail: 'Sparki can reach this target.',
        url: project.url,
        color: COLORS.test,
        fields: [],
      };
  }
}

const truncate = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** Slack's mrkdwn treats these three as control characters; everything else is literal. */
const slackEscape = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A Slack incoming-webhook message: `text` is the notification's fallback, `blocks` the layout. */
export function slackMessage(event: NotificationEvent) {
  const summary = summarize(event);
  const heading = `*<${slackEscape(summary.url)}|${slackEscape(summary.title)}>*`;
  const body = summary.detail ? `${heading}\n${slackEscape(summary.detail)}` : heading;
  const context = summary.fields.map((f) => `*${slackEscape(f.name)}:* ${slackEscape(f.value)}`);
  return {
    text: truncate(summary.title, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(body, 3000) } },
      ...(context.length
        ? [
            {
              type: 'context',
              elements: [{ type: 'mrkdwn', text: truncate(context.join('  ·  '), 3000) }],
            },
          ]
        : []),
    ],
  };
}

/**
 * A Discord webhook message with one embed. `allowed_mentions` is empty, so text from a build's
 * error can never ping `@everyone` or a role.
 */
export function discordMessage(event: NotificationEvent) {
  const summary = summarize(event);
  return {
    content: truncate(summary.title, 2000),
    embeds: [
      {
        title: truncate(summary.title, 256),
        url: summary.url,
        color: summary.color,
        timestamp: event.created_at,
        ...(summary.detail ? { description: truncate(summary.detail, 4096) } : {}),
        fields: summary.fields.slice(0, 25).map((f) => ({
          name: truncate(f.name, 256),
          value: truncate(f.value, 1024),
          inline: true,
        })),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** The JSON body a target of `kind` receives for `event`. */
export function messageBody(kind: TargetKind, event: NotificationEvent): unknown {
  if (kind === 'slack') return slackMessage(event);
  if (kind === 'discord') return discordMessage(event);
  return event;
}
