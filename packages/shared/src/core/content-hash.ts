import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Dropbox's `content_hash` (https://www.dropbox.com/developers/reference/content-hash): SHA-256 of every 4 MiB block,
 * then SHA-256 over the concatenated binary block digests, in hex. An empty input has no blocks, so its hash is the
 * SHA-256 of the empty string. This is the project's only content hasher: the uploader, the "skip if identical" check
 * and the Dropbox emulator all use it, so they cannot disagree.
 */

/** Dropbox's block size: 4,194,304 bytes. */
export const DROPBOX_HASH_BLOCK_SIZE = 4 * 1024 * 1024;

/** The final step of the algorithm, on the already computed 32-byte block digests. */
export function contentHashFromBlockDigests(blockDigests: readonly Uint8Array[]): string {
  const overall = createHash('sha256');
  for (const digest of blockDigests) overall.update(digest);
  return overall.digest('hex');
}

/**
 * Streaming hasher: feed chunks of any size with `update`. `digest` gives the hash of everything fed so far and leaves
 * the hasher usable, so an upload session can report its hash and keep receiving data.
 */
export class ContentHasher {
  /** 32 bytes per 4 MiB block: 8 KiB for a 1 GiB file, so keeping them is cheap. */
  private readonly blockDigests: Buffer[] = [];
  private block: Hash = createHash('sha256');
  private bytesInBlock = 0;
  private total = 0;

  /** Bytes hashed so far. */
  get size(): number {
    return this.total;
  }

  update(data: Uint8Array): this {
    let position = 0;
    while (position < data.length) {
      const take = Math.min(DROPBOX_HASH_BLOCK_SIZE - this.bytesInBlock, data.length - position);
      this.block.update(data.subarray(position, position + take));
      this.bytesInBlock += take;
      position += take;
      // Close a block as soon as it is full, so an input of exactly N blocks never gets an empty extra block.
      if (this.bytesInBlock === DROPBOX_HASH_BLOCK_SIZE) this.closeBlock();
    }
    this.total += data.length;
    return this;
  }

  /** The hex content hash of the bytes so far. */
  digest(): string {
    if (this.bytesInBlock === 0) return contentHashFromBlockDigests(this.blockDigests);
    // The open block is digested from a copy, so later updates continue it.
    return contentHashFromBlockDigests([...this.blockDigests, this.block.copy().digest()]);
  }

  private closeBlock(): void {
    this.blockDigests.push(this.block.digest());
    this.block = createHash('sha256');
    this.bytesInBlock = 0;
  }
}

export function contentHashOfBuffer(data: Uint8Array): string {
  return new ContentHasher().update(data).digest();
}

export async function contentHashOfStream(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const hasher = new ContentHasher();
  for await (const chunk of chunks) hasher.update(chunk);
  return hasher.digest();
}

/** Reads the file in 1 MiB slices: memory stays flat whatever the file's size. */
export function contentHashOfFile(path: string): Promise<string> {
  return contentHashOfStream(createReadStream(path, { highWaterMark: 1024 * 1024 }));
}
