import { describe, expect, it } from 'vitest';
import { IMMUTABLE, SHORT, routeFor } from '../../src/storage/routes.js';
import { KINDS } from '../helpers/tree-serving-cases.js';

describe('routeFor', () => {
  it.each(KINDS)('%s is %s with Cache-Control %s, as nginx.conf serves it', (key, type, cache) => {
    expect(routeFor(`/${key}`)).toEqual({ contentType: type, cacheControl: cache });
  });

  it('gives the nginx content type and cache policy', () => {
    expect(routeFor('/m.com/x/@v/v1.0.0.zip')).toEqual({ contentType: 'application/zip', cacheControl: IMMUTABLE });
    expect(routeFor('/m.com/x/@v/list')).toEqual({ contentType: 'text/plain', cacheControl: SHORT });
    expect(routeFor('/sumdb/sum.golang.org/tile/8/data/x001/002.p/7')?.cacheControl).toBe(SHORT);
    expect(routeFor('/sumdb/sum.golang.org/tile/8/data/x001/002')?.cacheControl).toBe(IMMUTABLE);
  });

  it('takes a lookup ending in .zip for a lookup (sumdb shapes first)', () => {
    expect(routeFor('/sumdb/s.org/lookup/m.com/x@v1.0.0-x.zip')?.contentType).toBe('text/plain');
  });

  it.each([
    '/',
    '/README.txt',
    '/m.com/@v/',
    '/m.com/.x/@v/list',
    '/sumdb/s.org/tile/8/0/x001',
    '/m.com/@v/v1.zip.tmp',
  ])('refuses %s', (p) => {
    expect(routeFor(p)).toBeUndefined();
  });
});
