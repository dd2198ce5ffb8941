/**
 * The monitoring kit with the real tools: a sync writes its metrics file, the
 * real node_exporter (textfile collector) serves it and a scrape shows
 * gomirror's series with the run's values; promtool checks and unit-tests
 * monitoring/alerts.yml; every query of the Grafana dashboard names a series
 * the real metrics file contains.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, upstreamArgs } from '../helpers/cli.js';
import { inCI } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const PROMTOOL = '/usr/bin/promtool';
const MONITORING = path.join(repoRoot, 'monitoring');

function have(bin: string, pkg: string): boolean {
  if (existsSync(bin)) return true;
  if (inCI) throw new Error(`CI=true but ${bin} is missing: apt-get install -y ${pkg}`);
  console.warn(`SKIP: needs ${bin} (apt-get install -y ${pkg})`);
  return false;
}

function run(bin: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
    );
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The gomirror samples of an exposition text: "name{labels}" → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(gomirror_[a-z0-9_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe.skipIf(!have(PROMTOOL, 'prometheus'))('monitoring/alerts.yml with promtool', () => {
  it('passes promtool check rules', async () => {
    const r = await run(PROMTOOL, ['check', 'rules', 'alerts.yml'], MONITORING);
    expect(r.out).toMatch(/SUCCESS: 6 rules found/);
    expect(r.code).toBe(0);
  });

  it('passes its promtool unit tests (alerts.test.yml)', async () => {
    const r = await run(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], MONITORING);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });
});

describe.skipIf(!have(NODE_EXPORTER, 'prometheus-node-exporter'))(
  'the metrics file through the real node_exporter',
  () => {
    let up: FakeUpstream;
    let root: string;
    let exporter: ChildProcess | undefined;
    let metricsText = '';

    beforeAll(async () => {
      up = await startUpstream({ seed: 3, modules: 6 });
      root = await makeTempDir('gomirror-monitoring-');
      await fs.mkdir(path.join(root, 'textfile'));
    });

    afterAll(async () => {
      if (exporter && exporter.exitCode === null) {
        const done = new Promise((r) => exporter?.once('close', r));
        exporter.kill('SIGTERM');
        await done;
      }
      await up?.close();
      await fs.rm(root, { recursive: true, force: true });
    });

    it('after a sync, a scrape of node_exporter shows the run with the right values', async () => {
      const dest = path.join(root, 'tree');
      const prom = path.join(root, 'textfile', 'gomirror.prom');
      const r = await runCli([
        'sync',
        '--dest',
        dest,
        ...upstreamArgs(up),
        '--metrics-file',
        prom,
        '--log-level',
        'warn',
      ]);
      expect(r.code).toBe(0);
      metricsText = await fs.readFile(prom, 'utf8');
      const summary = JSON.parse(await fs.readFile(path.join(dest, '.gomirror', 'summary.json'), 'utf8')) as {
        bytes: number;
        finishedAt: string;
      };

      const port = await freePort();
      exporter = spawn(
        NODE_EXPORTER,
        [
          '--collector.disable-defaults',
          '--collector.textfile',
          `--collector.textfile.directory=${path.dirname(prom)}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let body = '';
      await waitFor(async () => {
        body = await fetch(`http://127.0.0.1:${port}/metrics`)
          .then((res) => res.text())
          .catch(() => '');
        return body.includes('gomirror_');
      }, 30_000);

      expect(body).toMatch(/^node_textfile_scrape_error 0$/m);
      const s = samples(body);
      const n = up.versions().length;
      expect(s.get('gomirror_last_run_versions{result="published"}')).toBe(n);
      expect(s.get('gomirror_last_run_versions{result="failed"}')).toBe(0);
      expect(s.get('gomirror_last_run_exit_code')).toBe(0);
      expect(s.get('gomirror_retry_backlog_versions')).toBe(0);
      expect(s.get('gomirror_trusted_tree_size')).toBe(n);
      expect(s.get('gomirror_last_run_bytes')).toBe(summary.bytes);
      expect(s.get('gomirror_last_run_timestamp_seconds')).toBeCloseTo(Date.parse(summary.finishedAt) / 1000, 2);
      expect(s.get('gomirror_last_success_timestamp_seconds')).toBeCloseTo(Date.parse(summary.finishedAt) / 1000, 2);
      expect(s.get('gomirror_cursor_lag_seconds')).toBeGreaterThan(0);
      // Every sample of the file reaches Prometheus unchanged.
      for (const [k, v] of samples(metricsText)) expect(s.get(k), k).toBe(v);
    }, 120_000);

    it('every query of the Grafana dashboard names only series the real metrics file contains', async () => {
      expect(metricsText).not.toBe('');
      const have = new Set([...samples(metricsText).keys()].map((k) => k.replace(/\{.*$/, '')));
      const dash = JSON.parse(await fs.readFile(path.join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
        templating: { list: Array<{ query?: unknown }> };
      };
      const queries = [
        ...dash.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
        ...dash.templating.list
          .filter((v) => typeof v.query === 'string' && v.query.includes('('))
          .map((v) => ({ where: 'templating', expr: v.query as string })),
      ];
      expect(queries.length).toBeGreaterThanOrEqual(9);
      for (const q of queries) {
        const names = [...q.expr.matchAll(/\b(gomirror_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
        expect(names.length, `${q.where}: ${q.expr}`).toBeGreaterThan(0);
        for (const name of names) expect(have.has(name), `${q.where}: ${name}`).toBe(true);
      }
    });
  },
);
