export * from './read-candle-file.js';
export * from './write-candles.js';
