/**
 * Worker-thread entry of the zip check pool (check-pool.ts): checks the zips it is sent and posts each outcome back
 * with its id.
 */
import { parentPort } from 'node:worker_threads';
import { checkZipJob, type ZipCheckJob } from './check-job.js';

const port = parentPort;
if (port !== null) {
  port.on('message', (msg: { id: number; job: ZipCheckJob }) => {
    void checkZipJob(msg.job).then((outcome) => port.postMessage({ id: msg.id, outcome }));
  });
}
