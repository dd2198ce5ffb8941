/**
 * The benchmark corpus mix (pure): deterministic per-version payload sizes so
 * that most module zips are 5–200 KB and a few are 1–20 MB, and the module
 * count that yields a given number of versions in the fake upstream's corpus.
 */
import { Rng } from '../../test/upstream/primitives.js';

/** Share of versions that carry a big (1–20 MB) payload. */
export const BIG_SHARE = 0.015;

/** Payloads are half random, half text: the zip is about this fraction of the payload. */
const ZIP_RATIO = 0.55;

function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.round(lo * Math.exp(rng.next() * Math.log(hi / lo)));
}

/** Payload bytes of the first `count` record ids (deterministic for a seed): zips of 5–200 KB, BIG_SHARE of 1–20 MB. */
export function payloadSizes(count: number, seed: number): number[] {
  const rng = new Rng(seed * 7919 + 17);
  const out: number[] = [];
  for (let id = 0; id < count; id++) {
    const big = rng.next() < BIG_SHARE;
    const zipBytes = big ? logUniform(rng, 1_000_000, 20_000_000) : logUniform(rng, 5_000, 200_000);
    out.push(Math.round(zipBytes / ZIP_RATIO));
  }
  return out;
}

/**
 * The `modules` option of startUpstream giving about `versions` versions: the
 * corpus has 12 template modules (about 40 versions), then 3 versions per module.
 */
export function modulesFor(versions: number): number {
  if (versions <= 40) return Math.max(1, Math.round(versions / 3.3));
  return 12 + Math.ceil((versions - 40) / 3);
}

/** Share of versions of the "big" shape that carry a large incompressible file. */
export const BIG_SHAPE_SHARE = 0.1;

/**
 * Payload bytes of the "big" shape (deterministic for a seed): every tenth
 * record id gets a payload whose incompressible half is 1–4 MB (the other
 * half is compressible text); the rest carry no payload.
 */
export function bigShapeSizes(count: number, seed: number): number[] {
  const rng = new Rng(seed * 104729 + 3);
  const every = Math.round(1 / BIG_SHAPE_SHARE);
  return Array.from({ length: count }, (_, id) => {
    const random = 1_000_000 + Math.floor(rng.next() * 3_000_000);
    return id % every === every - 1 ? 2 * random : 0;
  });
}
