import { stripVTControlCharacters } from 'node:util';
import { Box, render, Text, useApp, useInput, useStdout } from 'ink';
import { createElement as h, useEffect, useRef, useState } from 'react';
import type { LogLine } from '../../core/log-stream';
import type { Api, ProjectLink } from '../client';
import { follow } from '../commands/logs';
import { describeError } from '../output';
import type { Build } from '../tables';
import {
  buildLines,
  deploymentLines,
  handleKey,
  hints,
  initialState,
  type PendingAction,
  type TuiDeployment,
  type TuiState,
  visibleWindow,
  withData,
} from './state';

/**
 * `sparki ui`: the linked project's builds and deployments, polled every 2 s, with a build's live
 * log (cli/commands/logs.ts `follow`) and the actions of cli/tui/state.ts. This file only renders
 * and runs effects; what a key does is decided in ./state.ts.
 */

const POLL_MS = 2000;
/** How many log lines the view keeps (the screen shows the tail). */
const LOG_KEEP = 2000;

interface Props {
  api: Api;
  link: ProjectLink;
  projectName: string;
}

/** Runs a confirmed action against the API; the status line's text. */
export async function runAction(api: Api, action: PendingAction): Promise<string> {
  const id = encodeURIComponent(action.target.id);
  switch (action.kind) {
    case 'cancel-build':
      await api.request('POST', `/api/builds/${id}/cancel`);
      return `Build #${(action.target as Build).number} canceled.`;
    case 'cancel-deployment':
      await api.request('POST', `/api/deployments/${id}/cancel`);
      return 'Deployment canceled.';
    case 'redeploy': {
      const d = action.target as TuiDeployment;
      await api.request('POST', `/api/builds/${encodeURIComponent(d.build_id)}/deploy`, {
        stage: d.stage,
      });
      return `Redeploying to ${d.environment?.name ?? d.stage}.`;
    }
    case 'promote':
      await api.request('POST', `/api/deployments/${id}/promote`);
      return 'Promoting to production.';
    case 'rollback': {
      const d = action.target as TuiDeployment;
      await api.request(
        'POST',
        `/api/environments/${encodeURIComponent(d.environment_id)}/rollback`,
        {
          deployment_id: d.id,
        },
      );
      return `Rolled ${d.environment?.name ?? d.stage} back.`;
    }
  }
}

function List(props: {
  title: string;
  active: boolean;
  lines: string[];
  selected: number;
  height: number;
  empty: string;
}) {
  const { start, end } = visibleWindow(props.lines.length, props.selected, props.height);
  return h(
    Box,
    {
      flexDirection: 'column',
      borderStyle: 'round',
      borderColor: props.active ? 'cyan' : 'gray',
      paddingX: 1,
    },
    h(Text, { bold: true, color: props.active ? 'cyan' : undefined }, props.title),
    props.lines.length === 0
      ? h(Text, { dimColor: true }, props.empty)
      : props.lines.slice(start, end).map((line, i) => {
          const selected = props.active && start + i === props.selected;
          return h(
            Text,
            { key: start + i, inverse: selected, wrap: 'truncate-end' },
            `${selected ? '›' : ' '} ${line}`,
          );
        }),
  );
}

function App({ api, link, projectName }: Props) {
  const { exit } = useApp();
  const stdout = useStdout().stdout as NodeJS.WriteStream;
  const [state, setState] = useState<TuiState>(initialState);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [log, setLog] = useState<{ lines: string[]; end: string | null }>({ lines: [], end: null });
  const following = useRef<AbortController | null>(null);
  const [rows, setRows] = useState(stdout.rows || 24);

  useEffect(() => {
    const onResize = () => setRows(stdout.rows || 24);
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  // The lists, polled: statuses change without a keypress.
  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async () => {
      try {
        const project = encodeURIComponent(link.project_id);
        const [{ builds }, { deployments }] = await Promise.all([
          api.get<{ builds: Build[] }>(`/api/projects/${project}/builds?limit=50`),
          api.get<{ deployments: TuiDeployment[] }>(
            `/api/projects/${project}/deployments?limit=50`,
          ),
        ]);
        if (stopped) return;
        setState((current) => withData(current, builds, deployments));
        setLoadError(null);
      } catch (error) {
        if (!stopped) setLoadError(describeError(error).message);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, link.project_id]);

  useEffect(() => () => following.current?.abort(), []);

  function startFollowing(build: Build) {
    following.current?.abort();
    const controller = new AbortController();
    following.current = controller;
    setLog({ lines: [], end: null });
    const add = (text: string) =>
      setLog((current) => ({
        ...current,
        lines: [...current.lines, ...text.split('\n')].slice(-LOG_KEEP),
      }));
    follow(
      api,
      build.id,
      (line: LogLine) => add(stripVTControlCharacters(line.text)),
      () => {},
      { signal: controller.signal, onReconnect: () => add('— connection lost: reconnecting…') },
    ).then(
      (end) => {
        if (end && !controller.signal.aborted) setLog((current) => ({ ...current, end }));
      },
      (error) => {
        if (!controller.signal.aborted) {
          setLog((current) => ({ ...current, end: describeError(error).message }));
        }
      },
    );
  }

  useInput((input, key) => {
    const { state: next, effect } = handleKey(state, { ...key, input });
    setState(next);
    if (!effect) return;
    switch (effect.type) {
      case 'quit':
        following.current?.abort();
        exit();
        return;
      case 'follow':
        startFollowing(effect.build);
        return;
      case 'unfollow':
        following.current?.abort();
        following.current = null;
        return;
      case 'run':
        setState((current) => ({ ...current, message: { text: 'Working…', error: false } }));
        runAction(api, effect.action).then(
          (text) => setState((current) => ({ ...current, message: { text, error: false } })),
          (error) =>
            setState((current) => ({
              ...current,
              message: { text: describeError(error).message, error: true },
            })),
        );
    }
  });

  const header = h(
    Box,
    { justifyContent: 'space-between' },
    h(Text, { bold: true }, `Sparki · ${projectName}`),
    h(Text, { dimColor: true }, link.url),
  );
  const footer = h(
    Box,
    { flexDirection: 'column' },
    loadError ? h(Text, { color: 'red' }, loadError) : null,
    state.message
      ? h(Text, { color: state.message.error ? 'red' : 'green' }, state.message.text)
      : null,
    h(
      Text,
      { color: state.confirm ? 'yellow' : undefined, dimColor: !state.confirm },
      hints(state),
    ),
  );

  if (state.following) {
    const build = state.following;
    const height = Math.max(3, rows - 6);
    const status = log.end ? `ended: ${log.end}` : 'following…';
    return h(
      Box,
      { flexDirection: 'column', height: rows },
      header,
      h(Text, { bold: true }, `Build #${build.number} log · ${status}`),
      h(
        Box,
        { flexDirection: 'column', flexGrow: 1, overflow: 'hidden' },
        ...log.lines
          .slice(-height)
          .map((line, i) => h(Text, { key: i, wrap: 'truncate-end' }, line || ' ')),
      ),
      footer,
    );
  }

  const listHeight = Math.max(3, Math.floor((rows - 10) / 2));
  return h(
    Box,
    { flexDirection: 'column', height: rows },
    header,
    h(List, {
      title: 'Builds',
      active: state.pane === 'builds',
      lines: buildLines(state.builds),
      selected: state.selected.builds,
      height: listHeight,
      empty: 'No builds yet: push a commit to build it.',
    }),
    h(List, {
      title: 'Deployments',
      active: state.pane === 'deployments',
      lines: deploymentLines(state.deployments),
      selected: state.selected.deployments,
      height: listHeight,
      empty: 'No deployments yet: a successful build deploys.',
    }),
    h(Box, { flexGrow: 1 }),
    footer,
  );
}

/** Opens the full-screen view; resolves when the user quits. */
export async function runTui(api: Api, link: ProjectLink): Promise<void> {
  // Fails before the screen opens when the link or the token is wrong: the error prints as usual.
  const project = await api.get<{ name: string }>(
    `/api/projects/${encodeURIComponent(link.project_id)}`,
  );
  const projectName = project.name;
  const instance = render(h(App, { api, link: { ...link, url: api.target.url }, projectName }), {
    alternateScreen: true,
    exitOnCtrlC: true,
    // canOpenTui decided already; Ink's own CI guess counts an empty CI= as CI.
    interactive: true,
  });
  await instance.waitUntilExit();
}
