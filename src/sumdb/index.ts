/**
 * The checksum database (sum.golang.org) verification API: notes, tlog maths, tiles, records, trusted head and client.
 */
export * from './note.js';
export * from './tlog.js';
export * from './tiles.js';
export * from './record.js';
export * from './trusted.js';
export * from './tilefetch.js';
export { SumdbClient, type BulkRecord } from './client.js';
