/**
 * The deterministic module corpus of the fake upstream: which module versions
 * exist, their files, go.mod, h1 hashes, feed timestamps and log record ids.
 * Same seed and options give byte-identical output.
 */
import {
  Rng,
  compareVersions,
  formatRfc3339Nano,
  formatRfc3339Seconds,
  hash1,
  isPseudoVersion,
  modHash1,
  pseudoStamp,
  pseudoTime,
  randomBytesFrom,
  type Nanos,
} from './primitives.js';
import { buildModuleZip, corruptFiles, type ModuleFile } from './zipgen.js';

/** One published module version, as the feed, proxy and checksum database describe it. */
export interface CorpusVersion {
  path: string;
  version: string;
  /** Feed timestamp, RFC 3339 with nanoseconds (Go's RFC3339Nano). */
  timestamp: string;
  /** The `.info` Time. */
  time: string;
  zipH1: string;
  modH1: string;
  mod: Buffer;
  recordId: number;
}

/** Options of the generator. */
export interface CorpusOptions {
  seed: number;
  modules: number;
  bigFiles: boolean;
  /** Every clusterEvery-th feed entry starts a run of 2..MAX_CLUSTER identical timestamps (0: no clusters). */
  clusterEvery: number;
  /**
   * Optional extra payload per version (for benchmarks): bytes of a `data/`
   * file (half incompressible, half text) added to the zip of record `id`;
   * 0 or undefined adds nothing. Must be deterministic.
   */
  payloadBytes?: (id: number) => number;
}

/** The largest number of feed entries sharing one timestamp. */
export const MAX_CLUSTER = 5;

/** One feed line with the timestamp that orders it. */
export interface FeedEntry {
  ts: Nanos;
  line: string;
}

interface ModuleTemplate {
  path: string;
  versions: string[];
  license?: boolean;
  nested?: boolean;
  big?: boolean;
}

const TEMPLATES: ModuleTemplate[] = [
  { path: 'github.com/Azure/go-autorest', versions: ['v0.9.0', 'v0.10.0', 'v1.1.0-rc.1', 'v2.0.0+incompatible'] },
  {
    path: 'example.com/BigCo/Lib',
    versions: ['v1.0.0', 'v1.1.0-rc.1', 'v1.2.0', 'v1.2.1-0.20200101000000-abcdefabcdef'],
    big: true,
  },
  { path: 'example.com/BigCo/Lib/v2', versions: ['v2.0.0', 'v2.1.0', 'v2.1.1'] },
  {
    path: 'example.com/pseudoonly',
    versions: ['v0.0.0-20200101000000-abcdefabcdef', 'v0.0.0-20200315120000-0123456789ab'],
    license: false,
  },
  { path: 'gopkg.in/yaml.v2', versions: ['v2.2.8', 'v2.4.0'] },
  { path: 'github.com/Sirupsen/Logrus', versions: ['v1.0.0', 'v1.0.1', 'v1.1.0'] },
  { path: 'example.com/nested/tool', versions: ['v0.1.0', 'v0.2.0', 'v0.3.0'], nested: true, big: true },
  { path: 'github.com/user/incompat', versions: ['v1.0.0', 'v3.0.0+incompatible', 'v3.1.0+incompatible'] },
  { path: 'golang.example/x/Text', versions: ['v0.3.0', 'v0.3.1', 'v0.4.0-Beta.1'] },
  { path: 'example.com/licensed', versions: ['v1.0.0', 'v1.0.1', 'v1.1.0'], nested: true },
  { path: 'example.com/app/v3', versions: ['v3.0.0', 'v3.0.1'] },
  { path: 'example.net/util', versions: ['v0.0.1', 'v0.1.0', 'v0.2.0-alpha', 'v0.2.0'] },
];

interface ModuleState {
  tpl: ModuleTemplate;
  pending: string[];
  published: string[];
  pseudoOnly: boolean;
}

const BASE_TIME: Nanos = BigInt(Date.UTC(2020, 5, 1)) * 1_000_000n;
const MIB = 1024 * 1024;

function templateFor(i: number): ModuleTemplate {
  const t = TEMPLATES[i];
  if (t) return { ...t, versions: [...t.versions] };
  return { path: `example.com/gen/Mod${i}`, versions: ['v1.0.0', 'v1.0.1', 'v1.1.0'] };
}

/** The Go package name used for a module's root package. */
function packageName(modPath: string): string {
  const elems = modPath.split('/');
  let last = elems[elems.length - 1] as string;
  if (/^v\d+$/.test(last) && elems.length > 1) last = elems[elems.length - 2] as string;
  const name = last
    .replace(/\.v\d+$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  return /^[a-z]/.test(name) ? name : `p${name}`;
}

/** The module's major version suffix (/vN or gopkg.in .vN), if any. */
function pathMajor(modPath: string): number | undefined {
  const m = /(?:\/|^gopkg\.in\/.*\.)v(\d+)$/.exec(modPath);
  return m ? Number(m[1]) : undefined;
}

/** `size` bytes of payload: half incompressible (random), half compressible text. */
function payloadFiles(label: string, size: number): ModuleFile[] {
  const half = Math.floor(size / 2);
  const line = `${label} payload line of compressible text\n`;
  const text = Buffer.from(line.repeat(Math.ceil((size - half) / line.length) + 1)).subarray(0, size - half);
  return [
    { name: 'data/payload.bin', data: randomBytesFrom(`${label} payload`, half) },
    { name: 'data/payload.txt', data: text },
  ];
}

/** Which modules still have versions to publish: the n-th open one in module order in O(log n) (a Fenwick tree). */
class OpenModules {
  private readonly tree: Int32Array;
  count = 0;

  constructor(open: readonly boolean[]) {
    const n = open.length;
    this.tree = new Int32Array(n + 1);
    for (let i = 1; i <= n; i++) {
      if (open[i - 1]) {
        this.tree[i] = (this.tree[i] as number) + 1;
        this.count++;
      }
      const up = i + (i & -i);
      if (up <= n) this.tree[up] = (this.tree[up] as number) + (this.tree[i] as number);
    }
  }

  /** Marks module `i` (0-based, open) as done. */
  close(i: number): void {
    for (let x = i + 1; x < this.tree.length; x += x & -x) this.tree[x] = (this.tree[x] as number) - 1;
    this.count--;
  }

  /** The index of the `k`-th (0-based) open module. */
  nth(k: number): number {
    const n = this.tree.length - 1;
    let pos = 0;
    let rest = k + 1;
    for (let step = 1 << Math.floor(Math.log2(Math.max(n, 1))); step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && (this.tree[next] as number) < rest) {
        pos = next;
        rest -= this.tree[next] as number;
      }
    }
    return pos;
  }
}

/** The deterministic corpus: published versions, their files and the feed. */
export class Corpus {
  private readonly rng: Rng;
  private readonly modules: ModuleState[] = [];
  private readonly byKey = new Map<string, { v: CorpusVersion; files: ModuleFile[] }>();
  private readonly zips = new Map<string, Promise<Buffer>>();
  private readonly publishedList: CorpusVersion[] = [];
  private readonly byPath = new Map<string, CorpusVersion[]>();
  private readonly feedList: FeedEntry[] = [];
  private clock: Nanos = BASE_TIME;
  private clusterLeft = 0;
  private entryCount = 0;
  private grownModules = 0;
  private bigLeft: number;

  constructor(private readonly opts: CorpusOptions) {
    this.rng = new Rng(opts.seed);
    this.bigLeft = opts.bigFiles ? 2 : 0;
    for (let i = 0; i < opts.modules; i++) {
      const tpl = templateFor(i);
      this.modules.push({ tpl, pending: tpl.versions, published: [], pseudoOnly: tpl.versions.every(isPseudoVersion) });
    }
    // The same picks as choosing at random among the modules with pending versions, in module order, in O(log n).
    const open = new OpenModules(this.modules.map((m) => m.pending.length > 0));
    while (open.count > 0) {
      const i = open.nth(this.rng.int(open.count));
      const m = this.modules[i] as ModuleState;
      this.publish(m, m.pending.shift() as string);
      if (m.pending.length === 0) open.close(i);
    }
  }

  /** Everything published so far, in feed (and log) order. */
  get published(): readonly CorpusVersion[] {
    return this.publishedList;
  }

  /** All feed entries (published versions and raw lines) in timestamp order. */
  get feed(): readonly FeedEntry[] {
    return this.feedList;
  }

  /** The published version, or undefined. */
  find(modPath: string, version: string): CorpusVersion | undefined {
    return this.byKey.get(`${modPath}@${version}`)?.v;
  }

  /** Files of a published version (relative names), or undefined. */
  files(modPath: string, version: string): ModuleFile[] | undefined {
    return this.byKey.get(`${modPath}@${version}`)?.files;
  }

  /** Published versions of one module, in publish order. */
  versionsOf(modPath: string): CorpusVersion[] {
    return [...(this.byPath.get(modPath) ?? [])];
  }

  /** The module zip of a published version (built once, cached). */
  zip(v: Pick<CorpusVersion, 'path' | 'version'>): Promise<Buffer> {
    return this.cachedZip(v, false);
  }

  /** A valid module zip of the version whose content differs from the real one (cached). */
  corruptZip(v: Pick<CorpusVersion, 'path' | 'version'>): Promise<Buffer> {
    return this.cachedZip(v, true);
  }

  /** Publishes `count` new versions (new modules and new versions of existing ones). */
  grow(count: number): CorpusVersion[] {
    const out: CorpusVersion[] = [];
    for (let i = 0; i < count; i++) {
      if (i % 3 === 0 || this.modules.length === 0) {
        const n = ++this.grownModules;
        const tpl: ModuleTemplate = { path: `example.com/Grown${n}/mod`, versions: [] };
        const m: ModuleState = { tpl, pending: [], published: [], pseudoOnly: false };
        this.modules.push(m);
        out.push(this.publish(m, 'v1.0.0'));
      } else {
        const m = this.modules[this.rng.int(this.modules.length)] as ModuleState;
        out.push(this.publish(m, this.nextVersion(m)));
      }
    }
    return out;
  }

  /** Appends raw feed lines, each at the next (strictly increasing) timestamp. */
  addRaw(lines: readonly string[]): void {
    for (const line of lines) {
      this.clusterLeft = 0;
      const ts = this.tick();
      let out = line;
      try {
        const obj: unknown = JSON.parse(line);
        if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && !('Timestamp' in obj)) {
          out = JSON.stringify({ ...obj, Timestamp: formatRfc3339Nano(ts) });
        }
      } catch {
        // hostile, non-JSON line: served as given
      }
      this.feedList.push({ ts, line: out });
    }
  }

  private cachedZip(v: Pick<CorpusVersion, 'path' | 'version'>, corrupt: boolean): Promise<Buffer> {
    const key = `${corrupt ? 'corrupt:' : ''}${v.path}@${v.version}`;
    let z = this.zips.get(key);
    if (!z) {
      const files = this.files(v.path, v.version);
      if (!files) return Promise.reject(new Error(`no such corpus version ${v.path}@${v.version}`));
      z = buildModuleZip(v.path, v.version, corrupt ? corruptFiles(files) : files);
      this.zips.set(key, z);
    }
    return z;
  }

  private nextVersion(m: ModuleState): string {
    if (m.pseudoOnly) {
      return `v0.0.0-${pseudoStamp(this.clock - 3_600_000_000_000n)}-${this.rng.hex(12)}`;
    }
    const major = pathMajor(m.tpl.path);
    const releases = m.published
      .map((v) => /^v(\d+)\.(\d+)\.(\d+)$/.exec(v))
      .filter(
        (r): r is RegExpExecArray => r !== null && (major === undefined ? Number(r[1]) <= 1 : Number(r[1]) === major),
      )
      .map((r) => r[0])
      .sort(compareVersions);
    const top = releases[releases.length - 1];
    if (!top) return `v${major ?? 1}.0.0`;
    const [maj, min, pat] = top.slice(1).split('.').map(Number) as [number, number, number];
    return `v${maj}.${min}.${pat + 1}`;
  }

  /** Advances the feed clock, keeping runs of identical timestamps (clusters). */
  private tick(): Nanos {
    this.entryCount++;
    if (this.clusterLeft > 0) {
      this.clusterLeft--;
      return this.clock;
    }
    const secs = BigInt(1 + this.rng.int(90));
    const nanos = BigInt(1 + this.rng.int(999_999_999));
    this.clock = this.clock + secs * 1_000_000_000n + nanos;
    const every = this.opts.clusterEvery;
    if (every > 0 && this.entryCount % every === 0) this.clusterLeft = 1 + this.rng.int(MAX_CLUSTER - 1);
    return this.clock;
  }

  private publish(m: ModuleState, version: string): CorpusVersion {
    const ts = this.tick();
    const files = this.makeFiles(m, version);
    const incompatible = version.endsWith('+incompatible');
    const goMod = files.find((f) => f.name === 'go.mod');
    const mod = incompatible || !goMod ? Buffer.from(`module ${m.tpl.path}\n`) : goMod.data;
    const time = isPseudoVersion(version)
      ? (pseudoTime(version) as string)
      : formatRfc3339Seconds(ts - BigInt(60 + this.rng.int(3600)) * 1_000_000_000n);
    const v: CorpusVersion = {
      path: m.tpl.path,
      version,
      timestamp: formatRfc3339Nano(ts),
      time,
      zipH1: hash1(files.map((f) => ({ name: `${m.tpl.path}@${version}/${f.name}`, data: f.data }))),
      modH1: modHash1(mod),
      mod,
      recordId: this.publishedList.length,
    };
    m.published.push(version);
    this.publishedList.push(v);
    const same = this.byPath.get(v.path);
    if (same) same.push(v);
    else this.byPath.set(v.path, [v]);
    this.byKey.set(`${v.path}@${v.version}`, { v, files });
    this.feedList.push({ ts, line: JSON.stringify({ Path: v.path, Version: v.version, Timestamp: v.timestamp }) });
    return v;
  }

  private goMod(m: ModuleState): Buffer {
    const deps = new Map<string, string>();
    const picks = this.rng.int(3);
    for (let i = 0; i < picks && this.publishedList.length > 0; i++) {
      const d = this.publishedList[this.rng.int(this.publishedList.length)] as CorpusVersion;
      if (d.path !== m.tpl.path) deps.set(d.path, d.version);
    }
    let text = `module ${m.tpl.path}\n\ngo 1.16\n`;
    const sorted = [...deps.keys()].sort();
    if (sorted.length > 0) text += `\nrequire (\n${sorted.map((p) => `\t${p} ${deps.get(p)}\n`).join('')})\n`;
    return Buffer.from(text);
  }

  private makeFiles(m: ModuleState, version: string): ModuleFile[] {
    const pkg = packageName(m.tpl.path);
    const files: ModuleFile[] = [];
    if (!version.endsWith('+incompatible')) files.push({ name: 'go.mod', data: this.goMod(m) });
    if (m.tpl.license !== false) {
      files.push({
        name: 'LICENSE',
        data: Buffer.from(`Copyright (c) 2020 The ${m.tpl.path} Authors.\nMIT License.\n`),
      });
    }
    files.push({
      name: `${pkg}.go`,
      data: Buffer.from(`package ${pkg}\n\n// Version is the module version.\nconst Version = "${version}"\n`),
    });
    files.push({
      name: 'README.md',
      data: Buffer.from(`# ${m.tpl.path}\n\nRelease ${version}, note ${this.rng.hex(8)}.\n`),
    });
    if (m.tpl.nested) {
      files.push({ name: `cmd/${pkg}/main.go`, data: Buffer.from(`package main\n\nfunc main() {}\n`) });
      files.push({
        name: 'internal/deep/er/x.go',
        data: Buffer.from(`package er\n\n// X is deep.\nconst X = ${this.rng.int(1000)}\n`),
      });
      files.push({ name: 'testdata/Data File.txt', data: Buffer.from(`upper case and space in a file name\n`) });
    }
    const payload = this.opts.payloadBytes?.(this.publishedList.length) ?? 0;
    if (payload > 0) files.push(...payloadFiles(`${this.opts.seed}/${m.tpl.path}@${version}`, payload));
    if (m.tpl.big && this.bigLeft > 0 && m.published.length === 0) {
      this.bigLeft--;
      const label = `${this.opts.seed}/${m.tpl.path}@${version}`;
      files.push({
        name: 'data/random.bin',
        data: randomBytesFrom(label, (2 + this.rng.int(6)) * MIB + this.rng.int(MIB)),
      });
      const line = `${label} compressible line of text for the big-file corpus\n`;
      const size = (2 + this.rng.int(6)) * MIB;
      files.push({
        name: 'data/text.txt',
        data: Buffer.from(line.repeat(Math.ceil(size / line.length))).subarray(0, size),
      });
    }
    return files;
  }
}
