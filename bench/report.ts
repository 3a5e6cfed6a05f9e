import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { formatMs, formatRatio, ratio } from './stats';

const ROOT = join(import.meta.dirname, '..');
export const RESULTS_FILE = join(ROOT, 'bench', 'results', 'latest.json');
export const DOCS_FILE = join(ROOT, 'docs', 'benchmarks.md');
const TABLE_START = '<!-- bench:table:start (written by npm run bench) -->';
const TABLE_END = '<!-- bench:table:end -->';

export type Unit = 'ms' | 'req/s' | 'bytes' | 'lines' | 'frames' | 'errors' | 'answers';

/** One figure beside the baseline measured in the same run. */
export interface Figure {
  /** The section that measured it (`a`…`f`), so a partial run replaces only its own. */
  section: string;
  name: string;
  unit: Unit;
  value: number;
  baseline: { name: string; value: number } | null;
  /** value / baseline: above 1 is slower (ms) or faster (req/s) than the baseline. */
  ratio: number | null;
  note?: string;
  measured_at: string;
}

export interface Results {
  updated_at: string;
  machine: { cpus: number; model: string; node: string; load_at_start: number[] };
  figures: Figure[];
}

export function format(value: number, unit: Unit): string {
  if (unit === 'ms') return formatMs(value);
  if (unit === 'req/s') return `${value.toFixed(0)} req/s`;
  if (unit === 'bytes') return value >= 10_240 ? `${(value / 1024).toFixed(1)} KiB` : `${value} B`;
  return `${value} ${unit}`;
}

/** Collects a run's figures, printing each as it comes. */
export class Report {
  readonly figures: Figure[] = [];
  private readonly load = loadavg().map((value) => Number(value.toFixed(2)));

  add(
    section: string,
    name: string,
    unit: Unit,
    value: number,
    baseline?: { name: string; value: number },
    note?: string,
  ) {
    const figure: Figure = {
      section,
      name,
      unit,
      value,
      baseline: baseline ?? null,
      ratio: baseline ? ratio(value, baseline.value) : null,
      ...(note ? { note } : {}),
      measured_at: new Date().toISOString(),
    };
    this.figures.push(figure);
    const against = baseline
      ? `  vs ${baseline.name} ${format(baseline.value, unit)}  = ${formatRatio(figure.ratio)}`
      : '';
    console.log(`(${section}) ${name.padEnd(52)} ${format(value, unit).padStart(11)}${against}`);
  }

  /**
   * Writes the JSON file and the table in docs/benchmarks.md. Figures of sections this run did
   * not measure (`--only`) are kept from the previous file.
   */
  async save(): Promise<Results> {
    const previous: Results | undefined = existsSync(RESULTS_FILE)
      ? JSON.parse(await readFile(RESULTS_FILE, 'utf8'))
      : undefined;
    const measured = new Set(this.figures.map((figure) => figure.section));
    const kept = (previous?.figures ?? []).filter((figure) => !measured.has(figure.section));
    const figures = [...kept, ...this.figures].sort((a, b) => a.section.localeCompare(b.section));
    const results: Results = {
      updated_at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        load_at_start: this.load,
      },
      figures,
    };
    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    await writeDocsTable(results);
    return results;
  }
}

export function markdownTable(results: Results): string {
  const rows = results.figures.map((figure) => {
    const baseline = figure.baseline
      ? `${figure.baseline.name}: ${format(figure.baseline.value, figure.unit)}`
      : '';
    const name = figure.note ? `${figure.name} (${figure.note})` : figure.name;
    return `| ${figure.section} | ${name} | ${format(figure.value, figure.unit)} | ${baseline} | ${formatRatio(figure.ratio)} |`;
  });
  const { machine } = results;
  return [
    `Last run ${results.updated_at.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpus} × ${machine.model}, Node ${machine.node}, load average at start ${machine.load_at_start.join(' / ')}.`,
    '',
    '| | figure | value | baseline (same run) | ratio |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

async function writeDocsTable(results: Results) {
  const table = `${TABLE_START}\n${markdownTable(results)}\n${TABLE_END}`;
  const current = existsSync(DOCS_FILE) ? await readFile(DOCS_FILE, 'utf8') : '';
  const start = current.indexOf(TABLE_START);
  const end = current.indexOf(TABLE_END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + table + current.slice(end + TABLE_END.length)
      : `${current || '# Benchmarks\n'}\n${table}\n`;
  await writeFile(DOCS_FILE, next);
}
