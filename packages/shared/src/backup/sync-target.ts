/**
 * Glossary
 *  - target: where backups go (Dropbox, a local folder, or nowhere); one interface, one contract test suite.
 *  - key:    a file's path under the target's root, `data/candles/BTC/BTC-USDT_1d_....parquet` (see remote-layout.ts).
 *  - commit: the call that makes uploaded bytes a file on the target; Dropbox takes up to 1000 in one
 *            `finish_batch_v2`, which is what keeps its per-namespace write lock quiet.
 */

/** A file on the target, as the target describes it. `contentHash` is Dropbox's content hash (content-hash.ts). */
export interface RemoteFile {
  key: string;
  size: number;
  contentHash: string;
}

export interface UploadRequest {
  localPath: string;
  key: string;
  /**
   * The content hash the caller computed for the file. When given, the target checks that what it stored has this
   * hash, so a file rewritten while it was being uploaded fails (transient) instead of being recorded wrongly.
   */
  contentHash?: string;
  /** Called as the bytes of a large file go out (bytes sent so far, file size). */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

export type UploadOutcome =
  | { ok: true; file: RemoteFile; sentBytes: number }
  | { ok: false; error: unknown };

export type DeleteOutcome = { key: string; ok: true } | { key: string; ok: false; error: unknown };

export interface SyncTarget {
  readonly kind: 'dropbox' | 'local' | 'none';
  /** For logs: `dropbox /ferry`, `local /backup`, `none`. Never holds a credential. */
  readonly description: string;
  /** The file at `key`, or undefined when there is none. */
  stat(key: string): Promise<RemoteFile | undefined>;
  /** Uploads one file (overwriting in place) and returns what the target now holds. */
  upload(request: UploadRequest): Promise<RemoteFile & { sentBytes: number }>;
  /**
   * Uploads many files and commits them together where the target can (Dropbox: one `finish_batch_v2` per up to
   * 1000 files). One outcome per request, in order; one file failing does not fail the others.
   */
  uploadMany(requests: readonly UploadRequest[]): Promise<UploadOutcome[]>;
  /** Every file in the folder `folderKey` (such as `data/candles`) and its subfolders, sorted by key; none if it is absent. */
  list(folderKey: string): Promise<RemoteFile[]>;
  /**
   * The keys of the files in the folder `folderKey` (and, with `recursive`, its subfolders), sorted; none if it is
   * absent. Nothing is hashed.
   */
  listKeys(folderKey: string, options?: { recursive?: boolean }): Promise<string[]>;
  /**
   * Deletes files (Dropbox: one `delete_batch` per up to 1000). One outcome per key, in order; a key with no file is
   * deleted already, so deleting twice is fine.
   */
  delete(keys: readonly string[]): Promise<DeleteOutcome[]>;
  /**
   * Downloads `key` to `localPath`: streamed into a temp file beside it, checked against the target's content hash,
   * then renamed over `localPath`. Returns the target's description of the file.
   */
  download(key: string, localPath: string): Promise<RemoteFile>;
}

/** Keys are relative, forward-slashed paths; a key that could escape the target's root never reaches it. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.startsWith('/') || key.includes('\\')) return false;
  return key.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
