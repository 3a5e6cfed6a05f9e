import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MAX_POLLED_BRANCHES, parseLsRemote } from '../../core/repo-polling';
import type { HubMessage, RunnerMessage } from '../../core/runner-protocol';

const execFileAsync = promisify(execFile);
const LS_REMOTE_TIMEOUT_MS = 60_000;

type WatchList = Extract<HubMessage, { type: 'watch' }>['repos'];

/** `git ls-remote --heads` of a repository: its output, or an error saying why not. */
export async function lsRemoteHeads(url: string): Promise<string> {
  const { stdout } = await execFileAsync('git', ['ls-remote', '--heads', '--', url], {
    timeout: LS_REMOTE_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
    // Never wait for a password prompt: a poll that needs one fails and says so.
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' },
  });
  return stdout;
}

export interface WatcherOptions {
  send(message: RunnerMessage): boolean;
  log(message: string): void;
  lsRemote?(url: string): Promise<string>;
}

interface Watched {
  url: string;
  intervalMs: number;
  timer: ReturnType<typeof setInterval>;
  /** The heads the hub recorded last, as sent (JSON). */
  recorded?: string;
  /** The heads sent and not yet answered. */
  sent?: string;
  running?: Promise<void>;
  /** A poll was asked for while one ran: run once more after it. */
  again: boolean;
  lastError?: string;
}

/**
 * Polls the repositories the hub assigned to this runner (`watch`) at their intervals and at
 * once on `poll`, and reports a repository's heads when they differ from what the hub last
 * recorded: the platform compares them with the heads before and builds what moved.
 */
export class RepoWatcher {
  private readonly repos = new Map<string, Watched>();
  private readonly lsRemote: (url: string) => Promise<string>;

  constructor(private readonly options: WatcherOptions) {
    this.lsRemote = options.lsRemote ?? lsRemoteHeads;
  }

  /** Replaces the watch list; a repository new to it (or changed) is polled at once. */
  watch(repos: WatchList): void {
    const wanted = new Map(repos.map((repo) => [repo.project_id, repo]));
    for (const [projectId, watched] of this.repos) {
      const next = wanted.get(projectId);
      if (next && next.repo_url === watched.url && next.interval_ms === watched.intervalMs) {
        wanted.delete(projectId);
        continue;
      }
      clearInterval(watched.timer);
      this.repos.delete(projectId);
    }
    for (const repo of wanted.values()) {
      const timer = setInterval(() => void this.poll(repo.project_id), repo.interval_ms);
      timer.unref?.();
      this.repos.set(repo.project_id, {
        url: repo.repo_url,
        intervalMs: repo.interval_ms,
        timer,
        again: false,
      });
      this.options.log(`watching ${repo.repo_url} every ${repo.interval_ms / 1000} s`);
      void this.poll(repo.project_id);
    }
  }

  /** The projects being watched. */
  watched(): string[] {
    return [...this.repos.keys()];
  }

  /** Polls one repository now; a poll already running is followed by one more. */
  poll(projectId: string): Promise<void> {
    const watched = this.repos.get(projectId);
    if (!watched) return Promise.resolve();
    if (watched.running) {
      watched.again = true;
      return watched.running;
    }
    watched.running = this.pollOnce(projectId, watched).finally(() => {
      watched.running = undefined;
      if (watched.again) {
        watched.again = false;
        void this.poll(projectId);
      }
    });
    return watched.running;
  }

  /** The hub recorded the heads last sent for the project. */
  recorded(projectId: string): void {
    const watched = this.repos.get(projectId);
    if (watched?.sent) watched.recorded = watched.sent;
  }

  stop(): void {
    for (const watched of this.repos.values()) clearInterval(watched.timer);
    this.repos.clear();
  }

  private async pollOnce(projectId: string, watched: Watched): Promise<void> {
    let heads: ReturnType<typeof parseLsRemote>;
    try {
      heads = parseLsRemote(await this.lsRemote(watched.url)).slice(0, MAX_POLLED_BRANCHES);
      watched.lastError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      // Said once, not at every interval.
      if (message !== watched.lastError)
        this.options.log(`polling ${watched.url} failed: ${message}`);
      watched.lastError = message;
      return;
    }
    if (this.repos.get(projectId) !== watched) return;
    const key = JSON.stringify(heads);
    if (key === watched.recorded) return;
    if (this.options.send({ type: 'heads', project_id: projectId, heads })) watched.sent = key;
  }
}
