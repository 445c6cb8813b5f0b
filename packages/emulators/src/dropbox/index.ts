import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatorControl } from '../common/control.js';
import { startHttpEmulator, type RunningEmulator } from '../common/http-server.js';
import { TokenRegistry, type AppCredentials } from './auth.js';
import type { DropboxState } from './context.js';
import { serverError } from './errors.js';
import { replyStatus, sendReply } from './reply.js';
import { answer } from './routes.js';
import { DropboxCounter, defaultDropboxSettings, type DropboxSettings } from './settings.js';
import { FileStore, fileMetadata } from './store.js';
import { UploadSessions } from './upload-sessions.js';

/**
 * A Dropbox API v2 emulator for the endpoints ferry uses: uploads (single and sessions, batches), metadata, listing,
 * download, and the refresh-token grant. One port serves both hosts: point the client's api and content base URLs at
 * `url`. File contents live in a temp directory (removed on close), metadata in memory.
 */

export { DropboxCounter, DropboxFault, defaultDropboxSettings, type DropboxSettings } from './settings.js';

export interface DropboxEmulatorOptions {
  port?: number;
  host?: string;
  /** Overrides of the default settings (which `control.reset()` returns to). */
  settings?: Partial<DropboxSettings>;
  /** The app whose key/secret `/oauth2/token` accepts. Default: `ferry-test-app-key` / `ferry-test-app-secret`. */
  app?: AppCredentials;
  /** Refresh tokens `/oauth2/token` accepts. Default: [`ferry-test-refresh-token`]. */
  refreshTokens?: string[];
  /** Access tokens that never expire (legacy long-lived tokens). Default: [`ferry-test-long-lived-token`]. */
  longLivedTokens?: string[];
  /** Where file contents go; default a new temp directory. Removed on close either way. */
  storageDir?: string;
}

/** FileMetadata as the API returns it. */
export type DropboxFileMetadata = ReturnType<typeof fileMetadata>;

export interface DropboxEmulator extends RunningEmulator<DropboxSettings> {
  /** The credentials the emulator accepts, ready for a client. */
  readonly credentials: { appKey: string; appSecret: string; refreshToken: string; longLivedToken: string | undefined };
  /** The directory holding file contents. */
  readonly storageDir: string;
  /** A fresh short-lived access token (default lifetime: the `accessTokenLifetimeSeconds` setting). */
  issueAccessToken(lifetimeSeconds?: number): string;
  /** Ends a token now (it answers `expired_access_token`); without an argument, every access token. */
  expireAccessTokens(token?: string): void;
  addRefreshToken(token: string): void;
  /** Contents of a stored file; throws when there is none. */
  readFile(path: string): Promise<Buffer>;
  /** Metadata of a stored file, or undefined. */
  fileMetadata(path: string): DropboxFileMetadata | undefined;
  /** `path_display` of every stored file, sorted. */
  listFilePaths(): string[];
  /** Stores a file directly (seeding a test), as an overwrite would. */
  putFile(path: string, data: Buffer, clientModified?: Date): Promise<DropboxFileMetadata>;
  /** Deletes a stored file directly (a backup that lost it), as `files/delete_v2` would; throws when there is none. */
  deleteFile(path: string): void;
}

export const DEFAULT_APP: AppCredentials = { key: 'ferry-test-app-key', secret: 'ferry-test-app-secret' };
export const DEFAULT_REFRESH_TOKEN = 'ferry-test-refresh-token';
export const DEFAULT_LONG_LIVED_TOKEN = 'ferry-test-long-lived-token';

export async function startDropboxEmulator(options: DropboxEmulatorOptions = {}): Promise<DropboxEmulator> {
  const storageDir = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'ferry-dropbox-emulator-')));
  const control = new EmulatorControl<DropboxSettings>({ ...defaultDropboxSettings, ...options.settings });
  const app = options.app ?? DEFAULT_APP;
  const refreshTokens = options.refreshTokens ?? [DEFAULT_REFRESH_TOKEN];
  const longLivedTokens = options.longLivedTokens ?? [DEFAULT_LONG_LIVED_TOKEN];
  const store = new FileStore(storageDir);
  const state: DropboxState = {
    control,
    store,
    sessions: new UploadSessions(() => store.newBlobPath()),
    tokens: new TokenRegistry(app, refreshTokens, longLivedTokens),
    batchJobs: new Map(),
    deleteJobs: new Map(),
  };

  const running = await startHttpEmulator<DropboxSettings>({
    name: 'dropbox',
    port: options.port,
    host: options.host,
    control,
    handler: async (req, res) => {
      const reply = await answer(state, req);
      const status = replyStatus(reply);
      if (status !== undefined && status >= 300) control.count(DropboxCounter.status(status));
      await sendReply(req.raw, res, reply);
    },
    // The harness's random `errorRate` failures.
    serverError: (res) => {
      control.count(DropboxCounter.status(500));
      void sendReply(res.req, res, serverError(500));
    },
  });

  return {
    ...running,
    credentials: { appKey: app.key, appSecret: app.secret, refreshToken: refreshTokens[0] ?? '', longLivedToken: longLivedTokens[0] },
    storageDir,
    issueAccessToken: (lifetimeSeconds) => state.tokens.issue(lifetimeSeconds ?? control.settings.accessTokenLifetimeSeconds),
    expireAccessTokens: (token) => (token === undefined ? state.tokens.expireAll() : state.tokens.expire(token)),
    addRefreshToken: (token) => state.tokens.addRefreshToken(token),
    async readFile(path) {
      const entry = store.get(path);
      if (entry?.kind !== 'file') throw new Error(`dropbox emulator: no file at ${path}`);
      return readFile(entry.blobPath);
    },
    fileMetadata(path) {
      const entry = store.get(path);
      return entry?.kind === 'file' ? fileMetadata(entry) : undefined;
    },
    listFilePaths: () => store.files().map((file) => file.display),
    putFile: async (path, data, clientModified) => fileMetadata(await store.put(path, data, clientModified)),
    deleteFile(path) {
      const entry = store.get(path);
      if (entry?.kind !== 'file') throw new Error(`dropbox emulator: no file at ${path}`);
      store.remove(entry);
    },
    async close() {
      await running.close();
      await state.sessions.discardAll();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
