/**
 * The index rewrite from one listing (index-rewrite-suite.ts) in a bucket on
 * a real Ceph RGW: the MD5 that decides whether `@v/list` and `@latest` are
 * rewritten is the gateway's ETag of puts sent without `Content-MD5`.
 */
import { afterAll, beforeAll } from 'vitest';
import { openS3Tree } from '../../src/storage/s3.js';
import { rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';
import { indexRewriteSuite } from './index-rewrite-suite.js';

let rgw: Rgw;

beforeAll(async () => {
  rgw = await startRgw();
}, 300_000);

afterAll(async () => {
  await rgw?.stop();
});

indexRewriteSuite('s3 (RGW)', async () => {
  const storage = await openS3Tree(rgwLocation(rgw, await rgw.bucket('index'), 'mirror'));
  return { storage, cleanup: async () => storage.close() };
});
