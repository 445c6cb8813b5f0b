import type { FerryConfig } from '../core/config/config.js';
import { PermanentError } from '../core/errors.js';
import type { DropboxCredentials } from '../dropbox/dropbox-client.js';
import { DropboxTarget } from '../dropbox/dropbox-target.js';
import { LocalFolderTarget } from './local-folder-target.js';
import type { DeleteOutcome, RemoteFile, SyncTarget, UploadOutcome } from './sync-target.js';

/**
 * SYNC_TARGET=none: backups are off. Nothing is uploaded and nothing is there to restore; the sync worker says so at
 * start, and completes sync jobs without recording them as uploaded.
 */
export class NoSyncTarget implements SyncTarget {
  readonly kind = 'none';
  readonly description = 'none (SYNC_TARGET=none: nothing is backed up)';

  async stat(): Promise<RemoteFile | undefined> {
    return undefined;
  }

  async upload(): Promise<RemoteFile & { sentBytes: number }> {
    throw new PermanentError('SYNC_TARGET is none: there is nowhere to upload to');
  }

  async uploadMany(requests: readonly unknown[]): Promise<UploadOutcome[]> {
    return requests.map(() => ({ ok: false, error: new PermanentError('SYNC_TARGET is none: there is nowhere to upload to') }));
  }

  async list(): Promise<RemoteFile[]> {
    return [];
  }

  async listKeys(): Promise<string[]> {
    return [];
  }

  async delete(keys: readonly string[]): Promise<DeleteOutcome[]> {
    return keys.map((key) => ({ key, ok: true as const }));
  }

  async download(key: string): Promise<RemoteFile> {
    throw new PermanentError(`SYNC_TARGET is none: there is no ${key} to download`);
  }
}

export interface CreateSyncTargetOptions {
  /** The fetch the Dropbox client sends with (tests count bytes with it). */
  fetch?: typeof fetch;
}

/**
 * How the configured target names itself in `file_syncs` (what its `description` will be), without opening it: the
 * host that chains a sync records the file as pending there. Undefined when nothing is backed up.
 */
export function syncTargetDescription(sync: FerryConfig['sync']): string | undefined {
  switch (sync.target) {
    case 'none':
      return undefined;
    case 'local':
      return LocalFolderTarget.describe(sync.localDir);
    case 'dropbox':
      return DropboxTarget.describe(sync.dropbox.root);
  }
}

/** The target the configuration names (SYNC_TARGET, resolved from `auto` by loadConfig). */
export function createSyncTarget(sync: FerryConfig['sync'], options: CreateSyncTargetOptions = {}): SyncTarget {
  switch (sync.target) {
    case 'none':
      return new NoSyncTarget();
    case 'local':
      return new LocalFolderTarget(sync.localDir);
    case 'dropbox':
      return new DropboxTarget({
        root: sync.dropbox.root,
        apiBaseUrl: sync.dropbox.apiUrl,
        contentBaseUrl: sync.dropbox.contentUrl,
        auth: dropboxCredentials(sync.dropbox),
        chunkBytes: sync.dropbox.chunkBytes,
        fetch: options.fetch,
      });
  }
}

function dropboxCredentials(dropbox: FerryConfig['sync']['dropbox']): DropboxCredentials {
  if (dropbox.refreshToken && dropbox.appKey) {
    return { kind: 'refresh', refreshToken: dropbox.refreshToken, appKey: dropbox.appKey, appSecret: dropbox.appSecret };
  }
  if (dropbox.accessToken) return { kind: 'long-lived', accessToken: dropbox.accessToken };
  throw new PermanentError(
    'SYNC_TARGET is dropbox but no credentials are set: expected DROPBOX_REFRESH_TOKEN with DROPBOX_APP_KEY, or DROPBOX_ACCESS_TOKEN',
  );
}
