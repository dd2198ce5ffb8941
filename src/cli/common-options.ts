/** The yargs option declarations shared by the commands. */
import type { Options } from 'yargs';

export const commonOptions: Record<string, Options> = {
  dest: { type: 'string', describe: 'root of the served tree: a directory or s3://BUCKET[/PREFIX] (required)' },
  state: {
    type: 'string',
    describe:
      'state: a directory or s3://BUCKET/PREFIX (default DEST/.gomirror; for a bucket s3://BUCKET/PREFIX/.gomirror/state)',
  },
  's3-endpoint': {
    type: 'string',
    describe: 'S3 endpoint URL for s3:// locations (default $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)',
  },
  's3-path-style': {
    type: 'boolean',
    describe: 'path-style S3 addressing (http://endpoint/bucket/key), as Ceph RGW and MinIO need',
  },
  'work-dir': {
    type: 'string',
    describe:
      'local working directory: the working copy of a bucket state and temporary downloads (default $XDG_CACHE_HOME/gomirror/<id> or ~/.cache/gomirror/<id>)',
  },
  'lock-lease': {
    type: 'string',
    describe:
      "lease of the lock a command holds in the bucket of an s3:// tree or state, renewed every third of it; another host may take the lock once a dead holder's lease ran out (default 60s, 10s to 1h)",
  },
  'log-level': { type: 'string', describe: 'trace|debug|info|warn|error|silent (default info)' },
  'log-format': { type: 'string', describe: 'json|pretty (default: pretty on a TTY, json otherwise)' },
};

export const sumdbOption: Record<string, Options> = {
  sumdb: {
    type: 'string',
    describe: 'checksum database "NAME+HASH+KEY [URL]" (GOSUMDB syntax; default sum.golang.org)',
  },
};

export const syncOptions: Record<string, Options> = {
  index: { type: 'string', describe: 'module index feed URL (default https://index.golang.org/index)' },
  upstream: {
    type: 'string',
    describe: 'GOPROXY upstream(s), comma-separated or repeated, tried in order (default https://proxy.golang.org)',
  },
  ...sumdbOption,
  since: { type: 'string', describe: 'RFC 3339 time to read the index from (default: the saved cursor)' },
  until: { type: 'string', describe: 'stop at entries after this RFC 3339 time' },
  'max-versions': { type: 'string', describe: 'stop after scheduling this many versions' },
  include: { type: 'string', describe: 'only module paths matching these GOPRIVATE-style patterns (repeatable)' },
  exclude: { type: 'string', describe: 'skip module paths matching these patterns (repeatable)' },
  module: { type: 'string', describe: 'mirror PATH@VERSION instead of the feed (repeatable)' },
  'from-gosum': { type: 'string', describe: 'mirror every version named by this go.sum (repeatable)' },
  'from-gomod': { type: 'string', describe: 'mirror the module graph closure of this go.mod (repeatable)' },
  concurrency: { type: 'string', describe: 'parallel downloads (default 16)' },
  'dry-run': { type: 'boolean', describe: 'say what would be fetched and how much, write nothing' },
  'retry-give-up-after': {
    type: 'string',
    describe: 'give up on a version (skipped.jsonl) once it has kept failing this long: 12h, 7d… (default 7d)',
  },
  'request-deadline': {
    type: 'string',
    describe: "base of every request's overall deadline, plus size / --min-download-rate (default 60s)",
  },
  'min-download-rate': {
    type: 'string',
    describe: 'slowest accepted download, bytes per second: 64K, 1M… (default 64K)',
  },
  'no-origin-fetch': {
    type: 'string',
    describe:
      'upstreams asked not to start origin fetches in feed mode: URL[=cached-only|header], or none (default: proxy.golang.org via /cached-only)',
  },
  'user-agent-contact': {
    type: 'string',
    describe: 'URL or mail address added to the User-Agent so upstream operators can reach you',
  },
  'max-clock-skew': {
    type: 'string',
    describe:
      "hold back index entries stamped further than this ahead of this host's clock, e.g. 30s, 10m, 1h (default 10m)",
  },
  'min-free-space': {
    type: 'string',
    describe:
      'refuse to start a run with less free space than this on the tree or state filesystem: bytes or 512M, 1G… (default 1G; 0 disables)',
  },
};
