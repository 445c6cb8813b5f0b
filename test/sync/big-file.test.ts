import { open, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIB } from '@ferry/shared/backup';
import { contentHashOfFile } from '@ferry/shared/core';
import { DropboxCounter, DropboxFault, startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { dropboxTargetFor } from './support.js';

/** Writes `size` bytes of a pattern that differs from MiB to MiB, one MiB at a time (never the whole file in memory). */
async function writePatternedFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const block = Buffer.alloc(MIB);
    for (let offset = 0; offset < size; offset += MIB) {
      const index = offset / MIB;
      for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((index * 2654435761 + i) >>> 0, i);
      await handle.write(block, 0, Math.min(MIB, size - offset), offset);
    }
  } finally {
    await handle.close();
  }
}

describe('a file larger than 150 MB', () => {
  const SIZE = 300 * MIB;
  const CHUNK = 64 * MIB;
  let emulator: DropboxEmulator;
  let work: string;
  let bigFile: string;

  beforeAll(async () => {
    emulator = await startDropboxEmulator();
    work = await mkdtemp(path.join(os.tmpdir(), 'ferry-big-'));
    bigFile = path.join(work, 'weights.bin');
    await writePatternedFile(bigFile, SIZE);
  });
  afterAll(async () => {
    await emulator.close();
    await rm(work, { recursive: true, force: true });
  });

  it('goes up in chunks, and after a chunk fails half-way resumes from the server\'s offset instead of starting over', async () => {
    let sentBodyBytes = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      if (init?.body instanceof Uint8Array) sentBodyBytes += init.body.length;
      return fetch(input, init);
    };
    const target = dropboxTargetFor(emulator, { chunkBytes: CHUNK, fetch: countingFetch });
    // The first append (bytes 64..128 MiB) keeps half of its chunk, then the connection drops.
    emulator.control.addFault({ name: DropboxFault.ChunkFailure, remaining: 1, params: { fraction: 0.5 } });
    const contentHash = await contentHashOfFile(bigFile);

    const [outcome] = await target.uploadMany([{ localPath: bigFile, key: '2025-11-11/models/weights.bin', contentHash }]);

    expect(outcome).toEqual({ ok: true, file: { key: '2025-11-11/models/weights.bin', size: SIZE, contentHash }, sentBytes: SIZE + CHUNK / 2 });
    expect(emulator.fileMetadata('/ferry/2025-11-11/models/weights.bin')).toMatchObject({ size: SIZE, content_hash: contentHash });
    // Dropbox kept every byte exactly once; the client re-sent only the half chunk that was lost.
    expect(emulator.control.counter(DropboxCounter.bytesReceived)).toBe(SIZE);
    expect(sentBodyBytes).toBe(SIZE + CHUNK / 2);
    expect(sentBodyBytes).toBeLessThan(SIZE + CHUNK);
    // start, then appends: the failed one, an empty probe (answered incorrect_offset), the rest of that chunk, three more.
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/start'))).toBe(1);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/append_v2'))).toBe(6);
    expect(emulator.control.counter(DropboxCounter.status(409))).toBe(1);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/finish_batch_v2'))).toBe(1);
  });

  it('when the answer to the closing chunk is lost, commits the closed session instead of uploading again', async () => {
    emulator.control.reset();
    let appends = 0;
    const losingLastAnswer: typeof fetch = async (input, init) => {
      // The closing append (the 4th: 64..128, 128..192, 192..256, 256..300 MiB) is stored, but its answer is lost.
      if (String(input).endsWith('/files/upload_session/append_v2') && ++appends === 4) {
        emulator.control.addFault({ name: DropboxFault.ConnectionReset, remaining: 1, pathIncludes: 'append_v2', params: { afterProcessing: true } });
      }
      return fetch(input, init);
    };
    const target = dropboxTargetFor(emulator, { chunkBytes: CHUNK, fetch: losingLastAnswer });
    const contentHash = await contentHashOfFile(bigFile);

    const [outcome] = await target.uploadMany([{ localPath: bigFile, key: 'lost-answer/weights.bin', contentHash }]);

    expect(outcome).toEqual({ ok: true, file: { key: 'lost-answer/weights.bin', size: SIZE, contentHash }, sentBytes: SIZE });
    expect(emulator.control.counter(DropboxCounter.bytesReceived)).toBe(SIZE);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/start'))).toBe(1);
    expect(emulator.control.counter('fault:connection-reset')).toBe(1);
  });

  it('goes up alone through an upload session finished with files/upload_session/finish', async () => {
    emulator.control.reset();
    const target = dropboxTargetFor(emulator, { chunkBytes: 128 * MIB });
    const contentHash = await contentHashOfFile(bigFile);
    const progress: number[] = [];

    const uploaded = await target.upload({ localPath: bigFile, key: 'data/models/weights.bin', contentHash, onProgress: (sent) => progress.push(sent) });

    expect(uploaded).toEqual({ key: 'data/models/weights.bin', size: SIZE, contentHash, sentBytes: SIZE });
    expect(progress).toEqual([128 * MIB, 256 * MIB, SIZE]);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/start'))).toBe(1);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/append_v2'))).toBe(2);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload_session/finish'))).toBe(1);
    expect(emulator.control.counter(DropboxCounter.calls('files/upload'))).toBe(0);
  });
});
