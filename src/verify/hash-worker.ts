/**
 * Worker-thread entry of the hash pool (hash-pool.ts): re-hashes the files it is sent and posts each outcome back with
 * its id.
 */
import { parentPort } from 'node:worker_threads';
import { hashJob, type HashJob } from './file-hash.js';

const port = parentPort;
if (port !== null) {
  port.on('message', (msg: { id: number; job: HashJob }) => {
    void hashJob(msg.job).then((outcome) => port.postMessage({ id: msg.id, outcome }));
  });
}
