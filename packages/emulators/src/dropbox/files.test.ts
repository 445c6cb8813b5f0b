import type { files } from 'dropbox';
import { describe, expect, it } from 'vitest';
import { contentHashOfBuffer } from '@ferry/shared/core';
import { DropboxCounter } from './index.js';
import { apiErrorBody, responseErrorOf } from './sdk-client.js';
import { emulatorForSuite } from './test-client.js';

const REV = /^[0-9a-f]{9,}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('Dropbox emulator: files, through the real dropbox SDK', () => {
  const dropbox = emulatorForSuite();

  it('uploads a small file whose get_metadata size and content_hash match the local computation', async () => {
    const data = Buffer.from('open,high,low,close\n1,2,0.5,1.5\n');
    const uploaded = await dropbox.dbx.filesUpload({
      path: '/Backups/BTC-USDT/2024-01.csv',
      contents: data,
      mode: { '.tag': 'add' },
      client_modified: '2024-02-01T00:00:00Z',
    });
    expect(uploaded.status).toBe(200);

    const { result } = await dropbox.dbx.filesGetMetadata({ path: '/backups/btc-usdt/2024-01.CSV' });
    expect(result['.tag']).toBe('file');
    const file = result as files.FileMetadataReference;
    expect(file.name).toBe('2024-01.csv');
    expect(file.path_lower).toBe('/backups/btc-usdt/2024-01.csv');
    expect(file.path_display).toBe('/Backups/BTC-USDT/2024-01.csv');
    expect(file.size).toBe(data.length);
    expect(file.content_hash).toBe(contentHashOfBuffer(data));
    expect(file.rev).toMatch(REV);
    expect(file.id).toMatch(/^id:/);
    expect(file.client_modified).toBe('2024-02-01T00:00:00Z');
    expect(file.server_modified).toMatch(TIMESTAMP);
    expect(uploaded.result.rev).toBe(file.rev);
    expect(dropbox.emulator.control.counter(DropboxCounter.commits)).toBe(1);
    expect(dropbox.emulator.control.counter(DropboxCounter.bytesReceivedBy('files/upload'))).toBe(data.length);
  });

  it('downloads the stored bytes, with the metadata in Dropbox-API-Result, for a non-ASCII path too', async () => {
    const data = Buffer.from('prix;volume\n1,5;7\n');
    await dropbox.dbx.filesUpload({ path: '/Données/été.csv', contents: data });
    const downloaded = await dropbox.dbx.filesDownload({ path: '/Données/été.csv' });
    const result = downloaded.result as files.FileMetadata & { fileBinary: Buffer };
    expect(Buffer.compare(result.fileBinary, data)).toBe(0);
    expect(result.path_display).toBe('/Données/été.csv');
    expect(result.content_hash).toBe(contentHashOfBuffer(data));
    expect(await dropbox.emulator.readFile('/données/ÉTÉ.csv')).toEqual(data);
  });

  it('gives a new rev on every write, but none when identical content is uploaded again', async () => {
    const first = await dropbox.dbx.filesUpload({ path: '/rev.txt', contents: Buffer.from('one') });
    const second = await dropbox.dbx.filesUpload({ path: '/rev.txt', contents: Buffer.from('two'), mode: { '.tag': 'overwrite' } });
    const again = await dropbox.dbx.filesUpload({ path: '/rev.txt', contents: Buffer.from('two'), mode: { '.tag': 'add' } });
    expect(second.result.rev).not.toBe(first.result.rev);
    expect(second.result.id).toBe(first.result.id);
    expect(again.result.rev).toBe(second.result.rev);
    expect(dropbox.emulator.control.counter(DropboxCounter.commits)).toBe(3);
    expect(dropbox.emulator.control.counter(DropboxCounter.filesWritten)).toBe(2);
  });

  it('answers a conflicting add with path/conflict/file, and autorename writes beside it', async () => {
    await dropbox.dbx.filesUpload({ path: '/conflict/report.csv', contents: Buffer.from('original') });
    const err = await responseErrorOf(dropbox.dbx.filesUpload({ path: '/conflict/report.csv', contents: Buffer.from('different') }));
    expect(err.status).toBe(409);
    const body = apiErrorBody(err);
    expect(body.error_summary).toMatch(/^path\/conflict\/file\/\.*$/);
    expect(body.error).toEqual({
      '.tag': 'path',
      reason: { '.tag': 'conflict', conflict: { '.tag': 'file' } },
      upload_session_id: expect.stringMatching(/^pid_upload_session:/),
    });

    const renamed = await dropbox.dbx.filesUpload({ path: '/conflict/report.csv', contents: Buffer.from('different'), autorename: true });
    expect(renamed.result.path_display).toBe('/conflict/report (1).csv');
    expect(dropbox.emulator.listFilePaths().filter((p) => p.startsWith('/conflict/'))).toEqual(['/conflict/report (1).csv', '/conflict/report.csv']);
  });

  it('updates only when the given rev is current', async () => {
    const v1 = await dropbox.dbx.filesUpload({ path: '/update.txt', contents: Buffer.from('v1') });
    const v2 = await dropbox.dbx.filesUpload({ path: '/update.txt', contents: Buffer.from('v2'), mode: { '.tag': 'update', update: v1.result.rev } });
    const stale = await responseErrorOf(
      dropbox.dbx.filesUpload({ path: '/update.txt', contents: Buffer.from('v3'), mode: { '.tag': 'update', update: v1.result.rev } }),
    );
    expect(stale.status).toBe(409);
    expect(apiErrorBody(stale).error_summary).toMatch(/^path\/conflict\/file\//);
    expect(dropbox.emulator.fileMetadata('/update.txt')?.rev).toBe(v2.result.rev);
    expect((await dropbox.emulator.readFile('/update.txt')).toString()).toBe('v2');
  });

  it('refuses to write a file where a folder is, or under a file', async () => {
    await dropbox.dbx.filesUpload({ path: '/folder/inside.txt', contents: Buffer.from('x') });
    const onFolder = apiErrorBody(await responseErrorOf(dropbox.dbx.filesUpload({ path: '/folder', contents: Buffer.from('y') })));
    expect(onFolder.error).toMatchObject({ reason: { '.tag': 'conflict', conflict: { '.tag': 'folder' } } });
    const underFile = apiErrorBody(
      await responseErrorOf(dropbox.dbx.filesUpload({ path: '/folder/inside.txt/deeper.txt', contents: Buffer.from('z') })),
    );
    expect(underFile.error).toMatchObject({ reason: { '.tag': 'conflict', conflict: { '.tag': 'file_ancestor' } } });
  });

  it('answers get_metadata of a missing path with 409 path/not_found, and reports folders', async () => {
    const err = await responseErrorOf(dropbox.dbx.filesGetMetadata({ path: '/nowhere/file.txt' }));
    expect(err.status).toBe(409);
    const body = apiErrorBody(err);
    expect(body.error_summary).toMatch(/^path\/not_found\/\.*$/);
    expect(body.error).toEqual({ '.tag': 'path', path: { '.tag': 'not_found' } });

    await dropbox.dbx.filesUpload({ path: '/Meta/Sub/f.txt', contents: Buffer.from('f') });
    const folder = await dropbox.dbx.filesGetMetadata({ path: '/meta/sub' });
    expect(folder.result).toEqual({ '.tag': 'folder', name: 'Sub', path_lower: '/meta/sub', path_display: '/Meta/Sub', id: expect.stringMatching(/^id:/) });
  });

  it('pages a recursive list_folder through list_folder/continue, then reports later changes', async () => {
    const paths = ['/list/a.csv', '/list/b.csv', '/list/2024/c.csv', '/list/2024/d.csv', '/list/2024/q1/e.csv', '/list/z.csv'];
    for (const path of paths) await dropbox.dbx.filesUpload({ path, contents: Buffer.from(path) });

    const seen: string[] = [];
    let page = (await dropbox.dbx.filesListFolder({ path: '/list', recursive: true, limit: 3 })).result;
    let pages = 1;
    seen.push(...page.entries.map((e) => `${e['.tag']}:${e.path_lower}`));
    while (page.has_more) {
      page = (await dropbox.dbx.filesListFolderContinue({ cursor: page.cursor })).result;
      pages += 1;
      seen.push(...page.entries.map((e) => `${e['.tag']}:${e.path_lower}`));
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([
      'folder:/list',
      'folder:/list/2024',
      'file:/list/2024/c.csv',
      'file:/list/2024/d.csv',
      'folder:/list/2024/q1',
      'file:/list/2024/q1/e.csv',
      'file:/list/a.csv',
      'file:/list/b.csv',
      'file:/list/z.csv',
    ]);

    await dropbox.dbx.filesUpload({ path: '/list/new.csv', contents: Buffer.from('new') });
    const changes = (await dropbox.dbx.filesListFolderContinue({ cursor: page.cursor })).result;
    expect(changes.entries.map((e) => e.path_lower)).toEqual(['/list/new.csv']);
    expect(changes.has_more).toBe(false);

    const direct = (await dropbox.dbx.filesListFolder({ path: '/list' })).result;
    expect(direct.entries.map((e) => e.name)).toEqual(['2024', 'a.csv', 'b.csv', 'new.csv', 'z.csv']);
  });

  it('refuses an upload over the request size limit with payload_too_large', async () => {
    dropbox.emulator.control.configure({ maxRequestBytes: 1024 });
    const err = await responseErrorOf(dropbox.dbx.filesUpload({ path: '/too-big.bin', contents: Buffer.alloc(1025) }));
    expect(err.status).toBe(409);
    expect(apiErrorBody(err).error).toEqual({ '.tag': 'payload_too_large' });
    expect(dropbox.emulator.fileMetadata('/too-big.bin')).toBeUndefined();
  });

  it('rejects wire-format mistakes with the 400 Dropbox gives, surfacing as SDK errors', async () => {
    const relative = await responseErrorOf(dropbox.dbx.filesUpload({ path: 'no-leading-slash.txt', contents: Buffer.from('x') }));
    expect(relative.status).toBe(400);
    expect(relative.error).toMatch(/^Error in call to API function "files\/upload": HTTP header "Dropbox-API-Arg": path: 'no-leading-slash.txt' did not match pattern/);

    const camelCase = { path: '/x.txt', contents: Buffer.from('x'), clientModified: '2024-01-01T00:00:00Z' } as unknown as files.UploadArg;
    const unknownField = await responseErrorOf(dropbox.dbx.filesUpload(camelCase));
    expect(unknownField.status).toBe(400);
    expect(unknownField.error).toBe(`Error in call to API function "files/upload": HTTP header "Dropbox-API-Arg": unknown field 'clientModified'`);

    const millis = await responseErrorOf(dropbox.dbx.filesUpload({ path: '/x.txt', contents: Buffer.from('x'), client_modified: '2024-01-01T00:00:00.000Z' }));
    expect(millis.status).toBe(400);
    expect(millis.error).toMatch(/client_modified: expected a timestamp like/);

    const rootAsSlash = await responseErrorOf(dropbox.dbx.filesListFolder({ path: '/' }));
    expect(rootAsSlash.status).toBe(400);
    expect(rootAsSlash.error).toMatch(/Specify the root folder as an empty string/);
  });

  it('refuses a raw Dropbox-API-Arg header that is not http-header-safe, and RPC bodies that are not JSON', async () => {
    const token = dropbox.emulator.issueAccessToken();
    const nonAscii = await fetch(`${dropbox.emulator.url}/2/files/upload`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/octet-stream',
        'Dropbox-API-Arg': JSON.stringify({ path: '/caf\u00e9.txt' }),
      },
      body: 'x',
    });
    expect(nonAscii.status).toBe(400);
    expect(await nonAscii.text()).toMatch(/HTTP header "Dropbox-API-Arg": could not decode input as JSON/);

    const form = await fetch(`${dropbox.emulator.url}/2/files/get_metadata`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'path=/x',
    });
    expect(form.status).toBe(400);
    expect(await form.text()).toMatch(/Bad HTTP "Content-Type" header: "application\/x-www-form-urlencoded"/);
  });
});
