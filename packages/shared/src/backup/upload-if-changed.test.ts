import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as contentHash from '../core/content-hash.js';
import { writeCandlesParquet } from '../parquet/write-candles.js';
import { LocalFolderTarget } from './local-folder-target.js';
import { uploadIfChanged } from './upload-if-changed.js';

// The one content hasher, watched: which files get read to be hashed.
vi.mock('../core/content-hash.js', async (importOriginal) => {
  const actual = await importOriginal<typeof contentHash>();
  return { ...actual, contentHashOfFile: vi.fn(actual.contentHashOfFile), contentHashOfBuffer: vi.fn(actual.contentHashOfBuffer) };
});

describe('uploadIfChanged hashes a file once', () => {
  let dir: string;
  let localPath: string;
  let written: Awaited<ReturnType<typeof writeCandlesParquet>>;
  let target: LocalFolderTarget;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-hash-once-'));
    localPath = path.join(dir, 'data', 'BTC-USDT_1d_20240101_20240110.parquet');
    const candles = Array.from({ length: 10 }, (_, i) => ({ openTime: Date.UTC(2024, 0, 1 + i), open: 1, high: 2, low: 0.5, close: 1.5, volume: i }));
    written = await writeCandlesParquet(localPath, candles);
    target = new LocalFolderTarget(path.join(dir, 'backup'));
    vi.mocked(contentHash.contentHashOfFile).mockClear();
    vi.mocked(contentHash.contentHashOfBuffer).mockClear();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Hashing calls that read the local file (the target hashing its own copy, as Dropbox does, is not ours). */
  const localReads = () =>
    vi.mocked(contentHash.contentHashOfFile).mock.calls.filter(([file]) => file === localPath).length +
    vi.mocked(contentHash.contentHashOfBuffer).mock.calls.length;

  it('does not read the file to hash it when the hash from writing it is known', async () => {
    const [outcome] = await uploadIfChanged(target, [{ localPath, key: 'candles/x.parquet', known: { size: written.bytes, contentHash: written.contentHash } }]);

    expect(outcome).toMatchObject({ status: 'uploaded', size: written.bytes, contentHash: written.contentHash });
    expect(localReads()).toBe(0);
    expect(contentHash.contentHashOfBuffer(await readFile(path.join(dir, 'backup', 'candles', 'x.parquet')))).toBe(written.contentHash);
  });

  it('hashes the file when nothing is known (a job queued by older code, a directory sync)', async () => {
    const [outcome] = await uploadIfChanged(target, [{ localPath, key: 'candles/x.parquet' }]);

    expect(outcome).toMatchObject({ status: 'uploaded', contentHash: written.contentHash });
    expect(localReads()).toBe(1);
  });

  it('does not trust a known hash once the file has another size', async () => {
    const [outcome] = await uploadIfChanged(target, [{ localPath, key: 'candles/x.parquet', known: { size: written.bytes + 1, contentHash: 'f'.repeat(64) } }]);

    expect(outcome).toMatchObject({ status: 'uploaded', contentHash: written.contentHash });
    expect(localReads()).toBe(1);
  });
});
