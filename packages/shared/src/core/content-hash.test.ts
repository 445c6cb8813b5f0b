import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContentHasher,
  DROPBOX_HASH_BLOCK_SIZE,
  contentHashFromBlockDigests,
  contentHashOfBuffer,
  contentHashOfFile,
} from './content-hash.js';

const MiB = 1024 * 1024;

/** Deterministic bytes that differ from block to block, so a hasher that mixes blocks up gets a different hash. */
function patternedBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/**
 * The expected hash computed without our code: coreutils `split` cuts the file into 4 MiB blocks, `openssl` digests
 * each block in binary, `sha256sum` digests the concatenation.
 */
function referenceHashWithShellTools(dir: string, file: string): string {
  const script = [
    'set -euo pipefail',
    'shopt -s nullglob',
    'cd "$DIR"',
    'rm -f block.*',
    `split -b ${DROPBOX_HASH_BLOCK_SIZE} -a 4 "$FILE" block.`,
    'for block in block.*; do openssl dgst -sha256 -binary "$block"; done | sha256sum | cut -c1-64',
  ].join('\n');
  return execFileSync('bash', ['-c', script], { env: { ...process.env, DIR: dir, FILE: file } })
    .toString()
    .trim();
}

describe('Dropbox content hash', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-content-hash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes empty input as SHA-256 of nothing, because an empty file has no blocks', () => {
    expect(contentHashOfBuffer(Buffer.alloc(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it("combines block digests exactly as Dropbox's published Milky Way example", () => {
    // https://www.dropbox.com/developers/reference/content-hash: the three block digests of milky-way-nasa.jpg
    // (9,711,423 bytes) and the resulting content hash. The image itself is not in the repository.
    const blocks = [
      '2a846fa617c3361fc117e1c5c1e1838c336b6a5cef982c1a2d9bdf68f2f1992a',
      'c68469027410ea393eba6551b9fa1e26db775f00eae70a0c3c129a0011a39cf9',
      '7376192de020925ce6c5ef5a8a0405e931b0a9a8c75517aacd9ca24a8a56818b',
    ].map((hex) => Buffer.from(hex, 'hex'));
    expect(contentHashFromBlockDigests(blocks)).toBe('485291fa0ee50c016982abbfa943957bcd231aae0492ccbaa22c58e3997b35e0');
  });

  it('hashes a short input as SHA-256 of its single block digest', () => {
    const data = Buffer.from('hello, dropbox');
    const block = createHash('sha256').update(data).digest();
    expect(contentHashOfBuffer(data)).toBe(createHash('sha256').update(block).digest('hex'));
  });

  it.each([
    ['exactly one block (4 MiB)', DROPBOX_HASH_BLOCK_SIZE],
    ['one block and one byte (4 MiB + 1)', DROPBOX_HASH_BLOCK_SIZE + 1],
    ['exactly two blocks (8 MiB)', 2 * DROPBOX_HASH_BLOCK_SIZE],
    ['two blocks and a tail (9 MiB + 7)', 9 * MiB + 7],
  ])('agrees with split | openssl | sha256sum for %s', async (_label, size) => {
    const data = patternedBytes(size);
    const file = join(dir, `input-${size}.bin`);
    await writeFile(file, data);
    const expected = referenceHashWithShellTools(dir, file);
    expect(contentHashOfBuffer(data)).toBe(expected);
    expect(await contentHashOfFile(file)).toBe(expected);
  });

  it('does not depend on how the input is cut into chunks', () => {
    const data = patternedBytes(2 * DROPBOX_HASH_BLOCK_SIZE + 12_345);
    const expected = contentHashOfBuffer(data);
    const cuts = [
      [1, DROPBOX_HASH_BLOCK_SIZE - 2, 1, 1, DROPBOX_HASH_BLOCK_SIZE],
      [DROPBOX_HASH_BLOCK_SIZE + 3, 65_536, 7],
      [3 * MiB, 3 * MiB, 3 * MiB],
    ];
    for (const sizes of cuts) {
      const hasher = new ContentHasher();
      let position = 0;
      for (const size of sizes) {
        hasher.update(data.subarray(position, position + size));
        position += size;
      }
      hasher.update(data.subarray(position));
      expect(hasher.size).toBe(data.length);
      expect(hasher.digest()).toBe(expected);
    }
  });

  it('reports the hash so far and keeps going, as an upload session does between appends', () => {
    const data = patternedBytes(DROPBOX_HASH_BLOCK_SIZE + 100);
    const hasher = new ContentHasher();
    hasher.update(data.subarray(0, 10));
    expect(hasher.digest()).toBe(contentHashOfBuffer(data.subarray(0, 10)));
    hasher.update(data.subarray(10, DROPBOX_HASH_BLOCK_SIZE));
    expect(hasher.digest()).toBe(contentHashOfBuffer(data.subarray(0, DROPBOX_HASH_BLOCK_SIZE)));
    hasher.update(data.subarray(DROPBOX_HASH_BLOCK_SIZE));
    expect(hasher.digest()).toBe(contentHashOfBuffer(data));
    expect(hasher.digest()).toBe(contentHashOfBuffer(data));
  });
});
