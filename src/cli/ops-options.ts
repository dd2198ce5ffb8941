/** The yargs option declarations of the operations commands: status, serve, daemon (and the metrics file of sync). */
import type { Options } from 'yargs';
import { sumdbOption, syncOptions } from './options.js';

/** `--metrics-file`: for sync and daemon. */
export const metricsOption: Record<string, Options> = {
  'metrics-file': {
    type: 'string',
    describe: 'write Prometheus metrics here after every run, atomically (node_exporter textfile collector, e.g. /var/lib/prometheus/node-exporter/gomirror.prom)',
  },
};

export const statusOptions: Record<string, Options> = {
  ...sumdbOption,
  json: { type: 'boolean', describe: 'print one JSON object instead of aligned lines' },
  disk: { type: 'boolean', default: true, describe: 'walk the tree for disk use and module count (--no-disk skips it on huge trees)' },
};

export const serveOptions: Record<string, Options> = {
  listen: { type: 'string', default: '127.0.0.1:8080', describe: 'address to listen on: HOST:PORT, [IPV6]:PORT or PORT' },
};

export const daemonOptions: Record<string, Options> = {
  ...syncOptions,
  ...metricsOption,
  interval: { type: 'string', default: '15m', describe: 'pause between runs: 30s, 15m, 1h, 1h30m…' },
};
