import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalFolderTarget, type SyncTarget } from '@ferry/shared/backup';
import { contentHashOfBuffer, PermanentError, TransientError } from '@ferry/shared/core';
import { startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { dropboxTargetFor } from './support.js';

/**
 * One contract, every target: what the sync worker and restore rely on, run against Dropbox (the emulator, through
 * the real SDK) and the local folder.
 */
interface TargetUnderTest {
  target: SyncTarget;
  close(): Promise<void>;
}

const targets: Record<string, () => Promise<TargetUnderTest>> = {
  dropbox: async () => {
    const emulator: DropboxEmulator = await startDropboxEmulator();
    return { target: dropboxTargetFor(emulator, { root: '/ferry-contract' }), close: () => emulator.close() };
  },
  local: async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ferry-local-target-'));
    return { target: new LocalFolderTarget(root), close: () => rm(root, { recursive: true, force: true }) };
  },
};

describe.each(Object.keys(targets))('the %s sync target', (name) => {
  let subject: TargetUnderTest;
  let target: SyncTarget;
  let work: string;
  let folder: string;

  beforeAll(async () => {
    subject = await targets[name]!();
    target = subject.target;
    work = await mkdtemp(path.join(os.tmpdir(), 'ferry-contract-'));
  });
  afterAll(async () => {
    await subject.close();
    await rm(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    // Each test writes under a folder of its own, so tests do not see each other's files.
    folder = `data/t-${randomBytes(4).toString('hex')}`;
  });

  async function localFile(name: string, data: Buffer): Promise<string> {
    const file = path.join(work, `${randomBytes(4).toString('hex')}-${name}`);
    await writeFile(file, data);
    return file;
  }

  it('has nothing at a key never uploaded', async () => {
    await expect(target.stat(`${folder}/missing.parquet`)).resolves.toBeUndefined();
  });

  it('stores an upload with the size and content hash of the local bytes', async () => {
    const data = randomBytes(70_000);
    const key = `${folder}/BTC/BTC-USDT_1d_20240101_20240301.parquet`;
    const uploaded = await target.upload({ localPath: await localFile('a', data), key });
    const expected = { key, size: data.length, contentHash: contentHashOfBuffer(data) };
    expect(uploaded).toEqual({ ...expected, sentBytes: data.length });
    await expect(target.stat(key)).resolves.toEqual(expected);
  });

  it('overwrites a file in place', async () => {
    const key = `${folder}/shared.bin`;
    await target.upload({ localPath: await localFile('v1', Buffer.from('version one')), key });
    await target.upload({ localPath: await localFile('v2', Buffer.from('version two!')), key });
    await expect(target.stat(key)).resolves.toEqual({ key, size: 12, contentHash: contentHashOfBuffer(Buffer.from('version two!')) });
    await expect(target.list(folder)).resolves.toEqual([{ key, size: 12, contentHash: contentHashOfBuffer(Buffer.from('version two!')) }]);
  });

  it('stores an empty file', async () => {
    const key = `${folder}/empty.log`;
    await target.upload({ localPath: await localFile('empty', Buffer.alloc(0)), key });
    await expect(target.stat(key)).resolves.toEqual({ key, size: 0, contentHash: contentHashOfBuffer(Buffer.alloc(0)) });
  });

  it('uploads many files with one outcome each, in order; a file that cannot be read fails alone', async () => {
    const files = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const data = Buffer.from(`file ${i} `.repeat(i + 1));
      return { data, key: `${folder}/many/f${String(i).padStart(2, '0')}.txt`, localPath: await localFile(`f${i}`, data) };
    }));
    const requests = files.map(({ key, localPath }) => ({ key, localPath }));
    requests.splice(7, 0, { key: `${folder}/many/gone.txt`, localPath: path.join(work, 'no-such-file') });

    const outcomes = await target.uploadMany(requests);

    expect(outcomes).toHaveLength(31);
    expect(outcomes[7]).toMatchObject({ ok: false });
    const succeeded = outcomes.filter((o) => o.ok).map((o) => o.ok && o.file);
    expect(succeeded).toEqual(files.map(({ key, data }) => ({ key, size: data.length, contentHash: contentHashOfBuffer(data) })));
    await expect(target.list(`${folder}/many`)).resolves.toEqual(succeeded);
  });

  it('lists a folder recursively, sorted, and an absent folder as empty', async () => {
    const data = Buffer.from('x');
    for (const key of [`${folder}/b/2.txt`, `${folder}/a.txt`, `${folder}/b/1.txt`]) {
      await target.upload({ localPath: await localFile('x', data), key });
    }
    expect((await target.list(folder)).map((f) => f.key)).toEqual([`${folder}/a.txt`, `${folder}/b/1.txt`, `${folder}/b/2.txt`]);
    await expect(target.list(`${folder}/nothing-here`)).resolves.toEqual([]);
  });

  it('lists the keys in a folder, sorted, with its subfolders\' only when asked', async () => {
    for (const key of [`${folder}/b.txt`, `${folder}/a.txt`, `${folder}/sub/c.txt`]) {
      await target.upload({ localPath: await localFile('x', Buffer.from('x')), key });
    }
    await expect(target.listKeys(folder)).resolves.toEqual([`${folder}/a.txt`, `${folder}/b.txt`]);
    await expect(target.listKeys(folder, { recursive: true })).resolves.toEqual([`${folder}/a.txt`, `${folder}/b.txt`, `${folder}/sub/c.txt`]);
    await expect(target.listKeys(`${folder}/nothing-here`)).resolves.toEqual([]);
  });

  it('deletes files with one outcome each, in order; a key with no file counts as deleted', async () => {
    const keys = [`${folder}/old-1.parquet`, `${folder}/old-2.parquet`, `${folder}/current.parquet`];
    for (const key of keys) await target.upload({ localPath: await localFile('x', Buffer.from(key)), key });

    const outcomes = await target.delete([keys[0]!, `${folder}/never-there.parquet`, keys[1]!]);

    expect(outcomes).toEqual([
      { key: keys[0], ok: true }, { key: `${folder}/never-there.parquet`, ok: true }, { key: keys[1], ok: true },
    ]);
    await expect(target.listKeys(folder)).resolves.toEqual([`${folder}/current.parquet`]);
    await expect(target.stat(keys[0]!)).resolves.toBeUndefined();
    await expect(target.delete([keys[0]!])).resolves.toEqual([{ key: keys[0], ok: true }]);
  });

  it('downloads a file over an older local copy, whole, and leaves no temp file behind', async () => {
    const data = randomBytes(300_000);
    const key = `${folder}/restore/me.parquet`;
    await target.upload({ localPath: await localFile('r', data), key });
    const destinationDir = await mkdtemp(path.join(work, 'dl-'));
    const destination = path.join(destinationDir, 'me.parquet');
    await writeFile(destination, 'an older version');

    const remote = await target.download(key, destination);

    expect(remote).toEqual({ key, size: data.length, contentHash: contentHashOfBuffer(data) });
    expect(Buffer.compare(await readFile(destination), data)).toBe(0);
    expect(await readdir(destinationDir)).toEqual(['me.parquet']);
  });

  it('refuses to download what is not there', async () => {
    const error = await target.download(`${folder}/absent.bin`, path.join(work, 'absent.bin')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
  });

  it('refuses bytes that do not match the hash the caller computed, keeping what it had', async () => {
    const key = `${folder}/checked.bin`;
    await target.upload({ localPath: await localFile('ok', Buffer.from('good bytes')), key });
    const stale = contentHashOfBuffer(Buffer.from('what the file held when it was hashed'));
    const error = await target.upload({ localPath: await localFile('changed', Buffer.from('rewritten meanwhile')), key, contentHash: stale })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    await expect(target.stat(key)).resolves.toEqual({ key, size: 10, contentHash: contentHashOfBuffer(Buffer.from('good bytes')) });
  });

  it.each(['../escape', '/absolute', 'a//b', 'a/./b'])('refuses the key %j', async (key) => {
    await expect(target.stat(key)).rejects.toBeInstanceOf(PermanentError);
  });
});
