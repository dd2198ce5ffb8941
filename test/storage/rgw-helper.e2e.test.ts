import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAllKeys, startRgw, type Rgw } from '../helpers/rgw.js';

describe('the test gateway (real Ceph RGW)', () => {
  let rgw: Rgw;
  beforeAll(async () => {
    rgw = await startRgw();
  });
  afterAll(async () => {
    await rgw?.stop();
  });

  it('creates buckets and stores objects under keys with + and !', async () => {
    const bucket = await rgw.bucket('helper');
    const { client, sdk } = rgw.admin;
    const key = 'github.com/!azure/x/@v/v3.7.0+incompatible.info';
    await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello' }));
    const got = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('hello');
    expect(await listAllKeys(rgw, bucket)).toEqual([key]);
  });
});
