import type ccxtDefault from 'ccxt';

/**
 * ccxt takes about a second to import (hundreds of exchanges). It is loaded on first use, so that commands and
 * services that never talk to an exchange (`ferry preload`, `status`, `keys`, the sync worker) do not pay for it.
 */
export type Ccxt = typeof ccxtDefault;

let loading: Promise<Ccxt> | undefined;
let loaded: Ccxt | undefined;

export function loadCcxt(): Promise<Ccxt> {
  loading ??= import('ccxt').then((m) => (loaded = m.default));
  return loading;
}

/** ccxt if it was loaded; an error can only be one of ccxt's once ccxt is loaded. */
export function loadedCcxt(): Ccxt | undefined {
  return loaded;
}
