/** The module index feed: line parsing, cursor maths, the page crawler and module filtering. */
export * from './entry.js';
export * from './cursor.js';
export * from './crawler.js';
export * from './filter.js';
