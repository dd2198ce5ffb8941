/** The index rewrite from one listing (index-rewrite-suite.ts) on the in-memory storage, whose listing has MD5s. */
import { MemoryTreeStorage } from '../storage/memory.js';
import { indexRewriteSuite } from './index-rewrite-suite.js';

indexRewriteSuite('in-memory storage', async () => ({ storage: new MemoryTreeStorage(), cleanup: async () => {} }));
