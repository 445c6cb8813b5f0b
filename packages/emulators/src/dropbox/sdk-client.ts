import { DropboxResponseError, type Dropbox } from 'dropbox';
import { createDropboxClient, type DropboxClientOptions } from '@ferry/shared/dropbox';
import type { DropboxEmulator } from './index.js';

/** The real `dropbox` SDK, built by ferry's factory, pointed at an emulator. */

export type CredentialKind = 'refresh' | 'long-lived';

export function clientOptionsFor(emulator: DropboxEmulator, kind: CredentialKind = 'refresh'): DropboxClientOptions {
  const { appKey, appSecret, refreshToken, longLivedToken } = emulator.credentials;
  return {
    apiBaseUrl: emulator.url,
    contentBaseUrl: emulator.url,
    auth:
      kind === 'refresh'
        ? { kind: 'refresh', refreshToken, appKey, appSecret }
        : { kind: 'long-lived', accessToken: longLivedToken ?? '' },
  };
}

export function sdkClientFor(emulator: DropboxEmulator, kind: CredentialKind = 'refresh'): Dropbox {
  return createDropboxClient(clientOptionsFor(emulator, kind));
}

/** The JSON body of a Dropbox API error (401, 409, 429), as the SDK hands it over in `error.error`. */
export interface ApiErrorBody {
  error_summary: string;
  error: Record<string, unknown>;
}

/** The SDK's HTTP error; its declarations omit that it extends Error. */
export type SdkResponseError = DropboxResponseError<unknown> & Error;

/** Awaits a call that must fail with an HTTP error and returns the SDK's error. */
export async function responseErrorOf(call: Promise<unknown>): Promise<SdkResponseError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof DropboxResponseError && err instanceof Error) return err as SdkResponseError;
    throw err;
  }
  throw new Error('expected the call to fail with a DropboxResponseError, but it succeeded');
}

export function apiErrorBody(err: DropboxResponseError<unknown>): ApiErrorBody {
  const body = err.error;
  if (typeof body !== 'object' || body === null || !('error_summary' in body) || !('error' in body)) {
    throw new Error(`not a Dropbox API error body: ${JSON.stringify(body)}`);
  }
  return body as ApiErrorBody;
}
