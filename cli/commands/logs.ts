import { stripVTControlCharacters } from 'node:util';
import { Command } from 'commander';
import WebSocket from 'ws';
import { parseViewerFrame } from '../../core/log-frames';
import type { BuildEndStatus, LogLine, StepStates } from '../../core/log-stream';
import { WS_PROTOCOL } from '../../core/ws-protocol';
import { type Api, linkedProject, withApiOptions } from '../client';
import { action, CliError, EXIT, note, paint } from '../output';
import { statusText } from '../tables';
import { fetchTimeline, timelineLines } from '../timeline';

interface BuildInfo {
  id: string;
  number: number;
  status: string;
}

interface LogPage {
  lines: LogLine[];
  next_after: number;
  has_more: boolean;
  end_status: BuildEndStatus | null;
}

/** A log line as the terminal shows it: the build's own colours on a TTY, plain text elsewhere. */
export function renderLine(line: LogLine, colour: boolean): string {
  return colour ? line.text : stripVTControlCharacters(line.text);
}

/** 0 for a build that succeeded; 1 for any other end (failed, canceled, timed out). */
export function exitCodeFor(status: BuildEndStatus): number {
  return status === 'succeeded' ? EXIT.ok : EXIT.failure;
}

/**
 * Progress lines for the steps that started or ended since the last report (`seen` keeps each
 * step's last status): `▸ install: npm ci` when one starts, `✓ install` or `✗ build (exit 1)`.
 */
export function stepProgress(seen: Map<string, string>, steps: StepStates): string[] {
  const messages: string[] = [];
  for (const step of [...steps].sort((a, b) => a.position - b.position)) {
    const before = seen.get(step.id);
    if (before === step.status) continue;
    seen.set(step.id, step.status);
    if (step.status === 'running') messages.push(`▸ ${step.name}: ${step.command}`);
    else if (step.status === 'succeeded') messages.push(`✓ ${step.name}`);
    else if (step.status === 'failed') {
      const code = step.exit_code == null ? '' : ` (exit ${step.exit_code})`;
      messages.push(`✗ ${step.name}${code}`);
    }
  }
  return messages;
}

/** The socket URL of a build's live log, from the platform's HTTP URL. */
export function liveLogUrl(base: string, buildId: string, after: number): string {
  const url = new URL(`${base}/api/builds/${encodeURIComponent(buildId)}/logs/live`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('after', String(after));
  url.searchParams.set('lines', 'packed');
  return url.toString();
}

async function latestBuild(api: Api, projectId: string): Promise<BuildInfo> {
  const { builds } = await api.get<{ builds: BuildInfo[] }>(
    `/api/projects/${projectId}/builds?limit=1`,
  );
  if (!builds[0]) throw new CliError('the project has no builds yet: push a commit to build it');
  return builds[0];
}

export interface FollowOptions {
  /** Stops following (the terminal UI's Esc): the promise then resolves with null. */
  signal?: AbortSignal;
  /** Told when the socket dropped and is reopened (default: a note on stderr). */
  onReconnect?: () => void;
}

/**
 * Follows the live log from `after` until the build ends; reconnects (with a fresh ticket) from
 * the last line seen when the socket drops before `end`.
 */
export async function follow(
  api: Api,
  buildId: string,
  print: (line: LogLine) => void,
  onSteps: (steps: StepStates) => void,
  options: FollowOptions = {},
): Promise<BuildEndStatus | null> {
  const { signal } = options;
  let after = 0;
  for (let failures = 0; ; ) {
    if (signal?.aborted) return null;
    const { ticket } = await api.request<{ ticket: string }>('POST', '/api/ws-tickets', {
      purpose: 'build-logs',
      resource_id: buildId,
    });
    const end = await new Promise<BuildEndStatus | null>((resolve, reject) => {
      const socket = new WebSocket(liveLogUrl(api.target.url, buildId, after), [
        WS_PROTOCOL,
        `ticket.${ticket}`,
      ]);
      let status: BuildEndStatus | null = null;
      const stop = () => socket.terminate();
      signal?.addEventListener('abort', stop, { once: true });
      socket.on('message', (data) => {
        const message = parseViewerFrame(String(data));
        if (!message) return; // a frame of a newer protocol: ignore it
        if (message.type === 'lines') {
          for (const line of message.lines) {
            if (line.seq <= after) continue;
            after = line.seq;
            print(line);
          }
        } else if (message.type === 'steps') onSteps(message.steps);
        else if (message.type === 'end') status = message.status;
      });
      socket.on('unexpected-response', (_request, response) => {
        reject(new CliError(`the live log answered ${response.statusCode}`));
        socket.terminate();
      });
      socket.on('error', () => {
        // 'close' follows and decides
      });
      socket.on('close', () => {
        signal?.removeEventListener('abort', stop);
        resolve(status);
      });
    });
    if (end) return end;
    if (signal?.aborted) return null;
    if (++failures > 5) throw new CliError('the live log keeps dropping: giving up');
    if (options.onReconnect) options.onReconnect();
    else note(paint('dim', 'connection lost: reconnecting…', process.stderr));
    await new Promise((resolve) => setTimeout(resolve, 500 * failures));
  }
}

/**
 * After a build's last line: its timeline, as a last NDJSON object `{"timeline": …}` with
 * `--json` (log lines always have a `seq`), else on stderr with the other notes.
 */
async function printTimeline(api: Api, buildId: string, json: boolean | undefined) {
  const timeline = await fetchTimeline(api, buildId);
  if (!timeline) return;
  if (json) process.stdout.write(`${JSON.stringify({ timeline })}\n`);
  else for (const line of timelineLines(timeline)) note(line);
}

export function logsCommand(): Command {
  return withApiOptions(
    new Command('logs')
      .description("print a build's log (default: the latest build); -f follows it live")
      .argument('[build]', 'the build id')
      .option('-f, --follow', 'follow the log until the build ends; exit 0 if it succeeded, else 1')
      .option(
        '--json',
        'print NDJSON: one log line object per line, and the timeline last once the build ended',
      ),
  ).action(
    action(
      async (
        buildId: string | undefined,
        options: { url?: string; token?: string; follow?: boolean; json?: boolean },
      ) => {
        const { api, link } = await linkedProject(options);
        const build = buildId
          ? await api.get<BuildInfo>(`/api/builds/${encodeURIComponent(buildId)}`)
          : await latestBuild(api, link.project_id);
        const colour = Boolean(process.stdout.isTTY);
        const print = (line: LogLine) =>
          process.stdout.write(
            options.json ? `${JSON.stringify(line)}\n` : `${renderLine(line, colour)}\n`,
          );
        if (options.follow) {
          note(paint('dim', `Following build #${build.number} (${build.status})…`, process.stderr));
          const seen = new Map<string, string>();
          const status = (await follow(api, build.id, print, (steps) => {
            for (const message of stepProgress(seen, steps)) {
              note(paint('cyan', message, process.stderr));
            }
          })) as BuildEndStatus; // no signal: it ends only with the build
          note(`Build #${build.number} ${statusText(status)}`);
          await printTimeline(api, build.id, options.json);
          return exitCodeFor(status);
        }
        let after = 0;
        for (;;) {
          const page = await api.get<LogPage>(
            `/api/builds/${encodeURIComponent(build.id)}/logs?after=${after}`,
          );
          for (const line of page.lines) print(line);
          after = page.next_after;
          if (!page.has_more) {
            if (!page.end_status)
              note(paint('dim', 'The build is still running: -f follows it.', process.stderr));
            else await printTimeline(api, build.id, options.json);
            return EXIT.ok;
          }
        }
      },
    ),
  );
}
