/** The yargs option declarations of the operations commands: status, serve, daemon (and the metrics file of sync). */
import type { Options } from 'yargs';
import { VERIFY_DEFAULT_CONCURRENCY } from '../config/commands.js';
import { sumdbOption, syncOptions } from './common-options.js';

/** `--metrics-file`: for sync and daemon. */
export const metricsOption: Record<string, Options> = {
  'metrics-file': {
    type: 'string',
    describe:
      'write Prometheus metrics here after every run, atomically (node_exporter textfile collector, e.g. ' +
      '/var/lib/prometheus/node-exporter/gomirror.prom)',
  },
};

export const statusOptions: Record<string, Options> = {
  ...sumdbOption,
  json: { type: 'boolean', describe: 'print one JSON object instead of aligned lines' },
  disk: {
    type: 'boolean',
    default: true,
    describe: 'show the counts the runs keep and the filesystem space (statfs); no walk (--no-disk omits them)',
  },
  walk: {
    type: 'boolean',
    describe:
      'also walk the whole tree for disk use by kind, and (when no run holds the lock) save what it counted ' +
      'as the exact counts',
  },
  check: {
    type: 'boolean',
    describe: 'one line like a monitoring plugin; exit 0 OK, 1 WARNING, 2 CRITICAL (implies --no-disk)',
  },
  'max-lag': { type: 'string', describe: 'with --check: CRITICAL when the cursor lags more than this (default 1h)' },
  'warn-lag': {
    type: 'string',
    describe: 'with --check: WARNING when the cursor lags more than this (default half of --max-lag)',
  },
};

export const serveOptions: Record<string, Options> = {
  listen: {
    type: 'string',
    default: '127.0.0.1:8080',
    describe: 'address to listen on: HOST:PORT, [IPV6]:PORT or PORT',
  },
  ...sumdbOption,
  'sumdb-fallback': {
    type: 'string',
    describe:
      'fetch checksum-database lookups/tiles the tree lacks from upstream (connected use, for ' +
      'GOPROXY=mirror,proxy.golang.org): "on" = the --sumdb URL, or a URL; default off (air gap)',
  },
  'max-connections': {
    type: 'string',
    describe:
      'open connections at once; at the cap the longest-idle one is closed (default 512; needs ulimit -n of ' +
      'at least 2N+64)',
  },
};

export const daemonOptions: Record<string, Options> = {
  ...syncOptions,
  ...metricsOption,
  interval: { type: 'string', default: '15m', describe: 'pause between runs: 30s, 15m, 1h, 1h30m…' },
};

/** The yargs options of `gomirror verify`. */
export const verifyOptions: Record<string, Options> = {
  ...sumdbOption,
  upstream: {
    type: 'string',
    describe: 'GOPROXY upstream(s) that --repair refetches from (default https://proxy.golang.org)',
  },
  concurrency: { type: 'string', describe: `modules checked at once (default ${VERIFY_DEFAULT_CONCURRENCY})` },
  repair: {
    type: 'boolean',
    describe: 'move bad files to STATE/quarantine/ and refetch them through the verified path (takes the run lock)',
  },
  online: { type: 'boolean', describe: 'fetch records and tiles the tree lacks from the network checksum database' },
  json: { type: 'boolean', describe: 'print problems and the summary as JSON lines' },
};

/** The yargs options of `gomirror probe` (with --dest, the mirror's recorded settings are the defaults). */
export const probeOptions: Record<string, Options> = {
  index: syncOptions['index'] as Options,
  upstream: syncOptions['upstream'] as Options,
  ...sumdbOption,
  'probe-module': {
    type: 'string',
    describe: 'PATH@VERSION whose .info every upstream must serve (default: the first entry of the index)',
  },
  samples: { type: 'string', describe: 'requests per endpoint for the median latency (default 3)' },
  json: { type: 'boolean', describe: 'print one JSON object instead of the table' },
};

/** The yargs options of `gomirror export` and `gomirror import`. */
export const exportOptions: Record<string, Options> = {
  ...sumdbOption,
  out: { type: 'string', describe: 'directory to write the bundle into (empty or missing; e.g. on a USB disk)' },
  full: { type: 'boolean', describe: 'carry everything, not only what was published since the last export' },
};

export const importOptions: Record<string, Options> = {
  ...sumdbOption,
  bundle: { type: 'string', describe: 'bundle directory written by gomirror export' },
};
