import { randomBytes, randomUUID } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contentHashOfBuffer } from '@ferry/shared/core';
import { malformedPath, writeConflict, type Tagged } from './errors.js';
import { ancestorsOf, isInside, lowerPath, parentOf, parsePath, type ParsedPath } from './paths.js';

/**
 * The emulated Dropbox: metadata in memory, file contents as files ("blobs") on disk, so a 1 GB file costs no memory.
 * Every change takes the next `seq`, which `list_folder` cursors use to page a stable snapshot and then report changes.
 */

export interface FileEntry {
  kind: 'file';
  id: string;
  lower: string;
  display: string;
  rev: string;
  size: number;
  contentHash: string;
  clientModified: string;
  serverModified: string;
  blobPath: string;
  seq: number;
}

export interface FolderEntry {
  kind: 'folder';
  id: string;
  lower: string;
  display: string;
  seq: number;
}

export type Entry = FileEntry | FolderEntry;

/** What is left of a deleted file or folder: enough for a `list_folder/continue` to report it as a `deleted` change. */
export interface DeletedEntry {
  kind: 'deleted';
  lower: string;
  display: string;
  seq: number;
}

export type WriteMode = { tag: 'add' } | { tag: 'overwrite' } | { tag: 'update'; rev: string };

/** `CommitInfo` of the API, already validated. */
export interface CommitRequest {
  path: string;
  mode: WriteMode;
  autorename: boolean;
  strictConflict: boolean;
  clientModified?: string;
}

/** Bytes already on disk in the blob directory, waiting to become a file's content. */
export interface StagedContent {
  blobPath: string;
  size: number;
  contentHash: string;
}

/** On success the store owns the staged blob (and deletes it when nothing was written); on failure the caller does. */
export type CommitOutcome = { ok: true; entry: FileEntry; written: boolean } | { ok: false; error: Tagged };

/** Dropbox timestamps: ISO 8601, UTC, whole seconds (`2015-05-12T15:50:38Z`). */
export function dropboxTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class FileStore {
  private readonly entries = new Map<string, Entry>();
  private readonly lowerById = new Map<string, string>();
  private readonly tombstones = new Map<string, DeletedEntry>();
  private seq = 0;
  /** Revs are hex, at least 9 digits; a per-instance prefix keeps two emulators' revs apart. */
  private readonly revPrefix = randomBytes(2).toString('hex').slice(0, 3);

  constructor(readonly blobDir: string) {}

  /** The sequence number of the latest change. */
  get latestSeq(): number {
    return this.seq;
  }

  newBlobPath(): string {
    return join(this.blobDir, randomUUID());
  }

  resolve(path: ParsedPath): Entry | 'root' | undefined {
    switch (path.kind) {
      case 'root':
        return 'root';
      case 'path':
        return this.entries.get(path.lower);
      case 'id': {
        const lower = this.lowerById.get(path.id);
        return lower === undefined ? undefined : this.entries.get(lower);
      }
      default:
        return undefined;
    }
  }

  get(pathOrLower: string): Entry | undefined {
    return this.entries.get(lowerPath(pathOrLower));
  }

  files(): FileEntry[] {
    return [...this.entries.values()].filter((e): e is FileEntry => e.kind === 'file').sort(byLower);
  }

  /** Entries inside a folder (`''` = root), sorted by path so parents come before their contents. */
  listInside(folderLower: string, recursive: boolean): Entry[] {
    return [...this.entries.values()]
      .filter((e) => (recursive ? isInside(e.lower, folderLower) : parentOf(e.lower) === folderLower))
      .sort(byLower);
  }

  /** Deletions inside a folder (`''` = root) since `afterSeq`, for the changes a list_folder cursor reports. */
  deletedInside(folderLower: string, recursive: boolean, afterSeq: number): DeletedEntry[] {
    return [...this.tombstones.values()].filter((t) =>
      t.seq > afterSeq && (recursive ? isInside(t.lower, folderLower) : parentOf(t.lower) === folderLower));
  }

  /**
   * Deletes a file, or a folder with everything inside it (`files/delete_v2`), and returns the entry as it was.
   * Dropbox deletes a folder's contents with it; each deleted item becomes a `deleted` change for list_folder cursors.
   */
  remove(entry: Entry): Entry {
    const doomed = entry.kind === 'folder' ? [entry, ...this.listInside(entry.lower, true)] : [entry];
    for (const item of doomed) {
      this.entries.delete(item.lower);
      this.lowerById.delete(item.id);
      if (item.kind === 'file') discard(item.blobPath);
      this.tombstones.set(item.lower, { kind: 'deleted', lower: item.lower, display: item.display, seq: ++this.seq });
    }
    return entry;
  }

  /** Writes a file directly (test seeding), as an `overwrite` commit would. */
  async put(path: string, data: Buffer, clientModified?: Date): Promise<FileEntry> {
    const blobPath = this.newBlobPath();
    await writeFile(blobPath, data);
    const outcome = this.commit(
      { blobPath, size: data.length, contentHash: contentHashOfBuffer(data) },
      { path, mode: { tag: 'overwrite' }, autorename: false, strictConflict: false, clientModified: clientModified && dropboxTimestamp(clientModified) },
    );
    if (!outcome.ok) {
      await unlink(blobPath);
      throw new Error(`cannot store ${path}: ${JSON.stringify(outcome.error)}`);
    }
    return outcome.entry;
  }

  /**
   * Dropbox's write rules (`WriteMode`): nothing at the path -> write; a folder there -> conflict; a file with
   * identical content -> nothing is written and its metadata is returned (unless `strict_conflict`); otherwise
   * `add` conflicts, `overwrite` replaces, `update` replaces only when the rev matches. `autorename` turns a conflict
   * into a write under a free name. Synchronous, so two commits can never interleave.
   */
  commit(content: StagedContent, request: CommitRequest): CommitOutcome {
    const parsed = parsePath(request.path);
    if (parsed.kind !== 'path') return { ok: false, error: malformedPath() };

    const blockedBy = ancestorsOf(parsed.lower).find((lower) => this.entries.get(lower)?.kind === 'file');
    if (blockedBy !== undefined) return { ok: false, error: writeConflict('file_ancestor') };

    const existing = this.entries.get(parsed.lower);
    const conflict = this.conflictOf(existing, content, request);
    if (conflict === 'identical' && existing?.kind === 'file') {
      discard(content.blobPath);
      return { ok: true, entry: existing, written: false };
    }
    let target = parsed.display;
    if (conflict === 'file' || conflict === 'folder') {
      if (!request.autorename) return { ok: false, error: writeConflict(conflict) };
      target = this.freeName(parsed.display, request.mode.tag === 'update' ? 'conflicted copy' : 'numbered');
    }
    return { ok: true, entry: this.write(target, content, request.clientModified), written: true };
  }

  private conflictOf(
    existing: Entry | undefined,
    content: StagedContent,
    request: CommitRequest,
  ): 'none' | 'identical' | 'file' | 'folder' {
    if (existing?.kind === 'folder') return 'folder';
    if (existing === undefined) {
      // strict_conflict: an update whose rev does not match is a conflict even when the file is gone.
      return request.mode.tag === 'update' && request.strictConflict ? 'file' : 'none';
    }
    if (existing.contentHash === content.contentHash && existing.size === content.size && !request.strictConflict) {
      return 'identical';
    }
    switch (request.mode.tag) {
      case 'add':
        return 'file';
      case 'overwrite':
        return 'none';
      case 'update':
        return request.mode.rev === existing.rev ? 'none' : 'file';
    }
  }

  /** `report.csv` -> `report (1).csv`, `report (2).csv`...; update conflicts -> `report (conflicted copy).csv`. */
  private freeName(display: string, style: 'numbered' | 'conflicted copy'): string {
    const slash = display.lastIndexOf('/');
    const folder = display.slice(0, slash);
    const name = display.slice(slash + 1);
    const dot = name.lastIndexOf('.');
    const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    for (let n = 1; ; n++) {
      const suffix = style === 'numbered' ? `(${n})` : n === 1 ? '(conflicted copy)' : `(conflicted copy ${n})`;
      const candidate = `${folder}/${stem} ${suffix}${extension}`;
      if (!this.entries.has(lowerPath(candidate))) return candidate;
    }
  }

  private write(display: string, content: StagedContent, clientModified: string | undefined): FileEntry {
    const lower = lowerPath(display);
    const folderDisplay = this.ensureFolders(display);
    const name = display.slice(display.lastIndexOf('/') + 1);
    const previous = this.entries.get(lower);
    const now = dropboxTimestamp(new Date());
    const seq = ++this.seq;
    const entry: FileEntry = {
      kind: 'file',
      // A file keeps its id across revisions.
      id: previous?.id ?? newId(),
      lower,
      display: `${folderDisplay}/${name}`,
      rev: `${this.revPrefix}${seq.toString(16).padStart(9, '0')}`,
      size: content.size,
      contentHash: content.contentHash,
      clientModified: clientModified ?? now,
      serverModified: now,
      blobPath: content.blobPath,
      seq,
    };
    if (previous?.kind === 'file') discard(previous.blobPath);
    this.tombstones.delete(lower);
    this.entries.set(lower, entry);
    this.lowerById.set(entry.id, lower);
    return entry;
  }

  /** Creates the missing parent folders of `display`; returns the parent's display path (existing casing wins). */
  private ensureFolders(display: string): string {
    const names = display.slice(1).split('/').slice(0, -1);
    let parentDisplay = '';
    for (const name of names) {
      const folderDisplay = `${parentDisplay}/${name}`;
      const lower = lowerPath(folderDisplay);
      const existing = this.entries.get(lower);
      if (existing) {
        parentDisplay = existing.display;
        continue;
      }
      const folder: FolderEntry = { kind: 'folder', id: newId(), lower, display: folderDisplay, seq: ++this.seq };
      this.tombstones.delete(lower);
      this.entries.set(lower, folder);
      this.lowerById.set(folder.id, lower);
      parentDisplay = folderDisplay;
    }
    return parentDisplay;
  }
}

/** Dropbox ids look like `id:a4ayc_80_OEAAAAAAAAAXw`. */
function newId(): string {
  return `id:${randomBytes(16).toString('base64url')}`;
}

function byLower(a: Entry, b: Entry): number {
  return a.lower < b.lower ? -1 : a.lower > b.lower ? 1 : 0;
}

function discard(blobPath: string): void {
  // Nobody waits for this; an open download keeps reading the unlinked file.
  void unlink(blobPath).catch(() => undefined);
}

/** `FileMetadata` as upload, finish and the `Dropbox-API-Result` of download return it (no `.tag`). */
export function fileMetadata(entry: FileEntry): Record<string, unknown> {
  return {
    name: nameOf(entry),
    path_lower: entry.lower,
    path_display: entry.display,
    id: entry.id,
    client_modified: entry.clientModified,
    server_modified: entry.serverModified,
    rev: entry.rev,
    size: entry.size,
    is_downloadable: true,
    content_hash: entry.contentHash,
  };
}

/** The `Metadata` union as get_metadata and list_folder return it (`.tag` file or folder). */
export function taggedMetadata(entry: Entry): Record<string, unknown> {
  if (entry.kind === 'file') return { '.tag': 'file', ...fileMetadata(entry) };
  return { '.tag': 'folder', name: nameOf(entry), path_lower: entry.lower, path_display: entry.display, id: entry.id };
}

/** `DeletedMetadata`, as list_folder/continue reports a deletion. */
export function deletedMetadata(entry: DeletedEntry): Record<string, unknown> {
  return { '.tag': 'deleted', name: nameOf(entry), path_lower: entry.lower, path_display: entry.display };
}

function nameOf(entry: Entry | DeletedEntry): string {
  return entry.display.slice(entry.display.lastIndexOf('/') + 1);
}
