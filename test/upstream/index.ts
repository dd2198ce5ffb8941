/**
 * The fake upstream for tests: a deterministic index feed, GOPROXY and
 * checksum database on 127.0.0.1, independent of gomirror's own code.
 */
export { startUpstream, recordText, infoJson, FAKE_SUMDB_NAME } from './server.js';
export type { FakeUpstream, UpstreamOptions, UpstreamRequest } from './server.js';
export { Corpus, MAX_CLUSTER } from './corpus.js';
export type { CorpusVersion, CorpusOptions, FeedEntry } from './corpus.js';
export type { Fault, FaultTarget } from './faults.js';
export { buildModuleZip } from './zipgen.js';
export type { ModuleFile } from './zipgen.js';
export {
  HashLog,
  createNoteSigner,
  formatTree,
  parseTilePath,
  tilePath,
  recordHash,
  nodeHash,
  keyHash,
} from './log.js';
export { escapeCase, unescapeCase, hash1, modHash1, parseRfc3339, formatRfc3339Nano } from './primitives.js';
