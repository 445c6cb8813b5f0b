export * from './candle-file-path.js';
export * from './write-candles.js';
