import { describe, expect, it } from 'vitest';
import { clusterBundleSizes, inBundles } from './homeWrites.ts';

describe('cluster bundles', () => {
  it('split a group into calls of the bundle sizes, largest first, each item once in order', () => {
    const sizes = (n: number) =>
      inBundles(Array.from({ length: n }, (_, i) => i)).map((b) => b.length);
    expect(sizes(0)).toEqual([]);
    expect(sizes(1)).toEqual([1]);
    expect(sizes(23)).toEqual([16, 4, 2, 1]);
    expect(sizes(70)).toEqual([32, 32, 4, 2]);
    for (let n = 0; n < 100; n++) {
      const items = Array.from({ length: n }, (_, i) => i);
      const bundles = inBundles(items);
      expect(bundles.flat()).toEqual(items);
      for (const b of bundles) expect(clusterBundleSizes).toContain(b.length);
    }
  });
});
