/** The served tree and the run state: layout, atomic writes, cursor and journals, the run lock. */
export * from './layout.js';
export * from '../storage/atomic.js';
export * from './state.js';
export * from './lock.js';
