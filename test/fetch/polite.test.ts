import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findPackageVersion, GOMIRROR_VERSION, userAgentFor } from '../../src/fetch/identity.js';
import { bulkUpstreams, cachedOnlyUrl } from '../../src/fetch/polite.js';

describe('bulkUpstreams', () => {
  it('reads cached-only upstreams via /cached-only, sends Disable-Module-Fetch to header ones, no change else', () => {
    const r = bulkUpstreams(['https://proxy.golang.org', 'https://goproxy.cn', 'https://corp.example/proxy'], {
      'https://proxy.golang.org': 'cached-only',
      'https://goproxy.cn': 'header',
    });
    expect(r.urls).toEqual([
      'https://proxy.golang.org/cached-only',
      'https://goproxy.cn',
      'https://corp.example/proxy',
    ]);
    expect(r.headers).toEqual({ 'https://goproxy.cn': { 'disable-module-fetch': 'true' } });
  });

  it('does not append /cached-only twice', () => {
    expect(cachedOnlyUrl('https://proxy.golang.org/cached-only')).toBe('https://proxy.golang.org/cached-only');
    expect(cachedOnlyUrl('https://proxy.golang.org/')).toBe('https://proxy.golang.org/cached-only');
  });
});

describe('User-Agent', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

  it('names gomirror and the version of package.json, with the contact when given', () => {
    expect(GOMIRROR_VERSION).toBe(pkg.version);
    expect(userAgentFor('1.2.3')).toBe('gomirror/1.2.3');
    expect(userAgentFor('1.2.3', 'https://ops.example/mirror')).toBe('gomirror/1.2.3 (+https://ops.example/mirror)');
  });

  it('finds the package from the built dist/ tree as well', () => {
    expect(findPackageVersion(new URL('../../dist/src/fetch', import.meta.url).pathname)).toBe(pkg.version);
    expect(findPackageVersion('/')).toBeUndefined();
  });
});
