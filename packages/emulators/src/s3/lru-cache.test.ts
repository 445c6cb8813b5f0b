import { describe, expect, it } from 'vitest';
import { LruBufferCache } from './lru-cache.js';

describe('LruBufferCache', () => {
  it('evicts the least recently used entries once over its byte budget', () => {
    const cache = new LruBufferCache(10);
    cache.set('a', Buffer.alloc(4));
    cache.set('b', Buffer.alloc(4));
    expect(cache.get('a')).toHaveLength(4); // a is now the most recent
    cache.set('c', Buffer.alloc(4));
    expect([cache.get('a') !== undefined, cache.get('b') !== undefined, cache.get('c') !== undefined]).toEqual([true, false, true]);
    expect(cache.totalBytes).toBe(8);
  });

  it('never holds an entry larger than the budget and accounts for replacements', () => {
    const cache = new LruBufferCache(10);
    cache.set('big', Buffer.alloc(11));
    expect(cache.size).toBe(0);
    cache.set('a', Buffer.alloc(6));
    cache.set('a', Buffer.alloc(2));
    expect(cache.totalBytes).toBe(2);
  });
});
