import { describe, expect, it } from 'vitest';
import { PermanentError } from '../core/errors.js';
import { joinRemotePath, relativePathOfSharedKey, remoteKeyFor } from './remote-layout.js';

const at = new Date('2025-11-11T23:59:59Z');

describe('remoteKeyFor', () => {
  it('puts candle files under data/, shared by every day and overwritten in place', () => {
    expect(remoteKeyFor('candles/BTC/BTC-USDT_1d_20221112_20251111.parquet', at)).toBe('data/candles/BTC/BTC-USDT_1d_20221112_20251111.parquet');
    expect(remoteKeyFor('candles/BTC/BTC-USDT_1d_20221112_20251111.parquet', new Date('2030-01-01T00:00:00Z')))
      .toBe('data/candles/BTC/BTC-USDT_1d_20221112_20251111.parquet');
  });

  it('puts logs, monitoring, models and learning data in a folder of the UTC day of the sync', () => {
    expect(remoteKeyFor('logs/worker.log', at)).toBe('2025-11-11/logs/worker.log');
    expect(remoteKeyFor('monitoring/health/cpu.json', at)).toBe('2025-11-11/monitoring/health/cpu.json');
    expect(remoteKeyFor('models/lstm/weights.bin', at)).toBe('2025-11-11/models/lstm/weights.bin');
    expect(remoteKeyFor('learning/episodes 01.csv', new Date('2025-11-12T00:00:00Z'))).toBe('2025-11-12/learning/episodes 01.csv');
  });

  it('treats any other directory as shared data', () => {
    expect(remoteKeyFor('flatfiles/us_stocks_sip/2025-01-02.csv.gz', at)).toBe('data/flatfiles/us_stocks_sip/2025-01-02.csv.gz');
    expect(remoteKeyFor('logsarchive/x', at)).toBe('data/logsarchive/x');
  });

  it.each(['', '/etc/passwd', '../secrets', 'logs/../../x', 'logs//x', 'logs/./x', 'logs\\x', 'logs/a\u0000b'])(
    'refuses %j, which could escape the sync root',
    (path) => {
      expect(() => remoteKeyFor(path, at)).toThrow(PermanentError);
      expect(() => remoteKeyFor(path, at)).toThrow(`path ${JSON.stringify(path)} cannot be synced`);
    },
  );
});

describe('relativePathOfSharedKey', () => {
  it('is the inverse of remoteKeyFor for shared data, and undefined for dated folders', () => {
    expect(relativePathOfSharedKey('data/candles/ETH/ETH-BTC_1h_20240101_20240102.parquet')).toBe('candles/ETH/ETH-BTC_1h_20240101_20240102.parquet');
    expect(relativePathOfSharedKey('2025-11-11/logs/worker.log')).toBeUndefined();
  });
});

describe('joinRemotePath', () => {
  it('joins a Dropbox root and a key with one slash', () => {
    expect(joinRemotePath('/ferry', 'data/candles/x')).toBe('/ferry/data/candles/x');
    expect(joinRemotePath('/ferry/', 'data')).toBe('/ferry/data');
  });
});
