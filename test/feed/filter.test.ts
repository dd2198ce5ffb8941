import { describe, expect, it } from 'vitest';
import { acceptsModule } from '../../src/feed/filter.js';

describe('acceptsModule', () => {
  it('accepts everything without patterns', () => {
    expect(acceptsModule({ include: [], exclude: [] }, 'example.com/m')).toBe(true);
    expect(acceptsModule({ include: [''], exclude: [''] }, 'example.com/m')).toBe(true);
  });

  it('with includes, accepts only modules matched by some include list (path-prefix globs)', () => {
    const f = { include: ['golang.org/x,*.corp.example', 'github.com/acme/*'], exclude: [] };
    expect(acceptsModule(f, 'golang.org/x/text')).toBe(true);
    expect(acceptsModule(f, 'golang.org/x')).toBe(true);
    expect(acceptsModule(f, 'golang.org/xyz')).toBe(false);
    expect(acceptsModule(f, 'git.corp.example/team/m')).toBe(true);
    expect(acceptsModule(f, 'github.com/acme/tool/v2')).toBe(true);
    expect(acceptsModule(f, 'github.com/other/tool')).toBe(false);
  });

  it('excludes win over includes', () => {
    const f = { include: ['github.com'], exclude: ['github.com/big/*', 'github.com/huge'] };
    expect(acceptsModule(f, 'github.com/small/m')).toBe(true);
    expect(acceptsModule(f, 'github.com/big/m')).toBe(false);
    expect(acceptsModule(f, 'github.com/huge/m/v3')).toBe(false);
    expect(acceptsModule({ include: [], exclude: ['*.example'] }, 'a.example/m')).toBe(false);
    expect(acceptsModule({ include: [], exclude: ['*.example'] }, 'a.example.org/m')).toBe(true);
  });
});
