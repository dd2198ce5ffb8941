import { it } from 'vitest';
import { FakeLog, newKey } from './fakelog.js';
it('dbg', async () => {
  const log = new FakeLog(newKey('n').signer);
  let t = Date.now(); await log.addMany(70000); console.log('TIMING build', Date.now() - t);
  t = Date.now(); await log.note(); console.log('TIMING note', Date.now() - t);
});
