import { symbolHash, type SymbolInfo } from './universe.js';

/**
 * A symbol's price at any millisecond, as a pure function: slow cycles plus day-, hour-, minute- and second-scale noise
 * around its price level. Every candle's open is the price at its open time and its close the price at its end, so
 * consecutive candles chain (close = next open) and candles of different intervals agree where they share bounds.
 */

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TWO_PI = 2 * Math.PI;

function fmix32(x: number): number {
  // MurmurHash3's finalizer: every input bit flips about half the output bits.
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) determined by (seed, k, salt); k may exceed 32 bits (millisecond times). */
export function unitHash(seed: number, k: number, salt: number): number {
  let h = fmix32(seed ^ Math.imul(salt + 1, 0x9e3779b1));
  h = fmix32(h ^ (k >>> 0));
  h = fmix32(h ^ Math.floor(k / 4294967296));
  return h / 4294967296;
}

/** Noise in [-amplitude, amplitude], linear between random values on a grid of `gridMs`. */
function valueNoise(seed: number, t: number, gridMs: number, salt: number, amplitude: number): number {
  const k = Math.floor(t / gridMs);
  const f = (t - k * gridMs) / gridMs;
  const a = unitHash(seed, k, salt) - 0.5;
  const b = unitHash(seed, k + 1, salt) - 0.5;
  return 2 * amplitude * (a + (b - a) * f);
}

export function priceAt(info: SymbolInfo, t: number): number {
  const seed = symbolHash(info.symbol);
  const phase1 = ((seed % 1000) / 1000) * TWO_PI;
  const phase2 = (((seed >>> 10) % 1000) / 1000) * TWO_PI;
  const cycles = 0.35 * Math.sin((TWO_PI * t) / (97 * DAY) + phase1) + 0.08 * Math.sin((TWO_PI * t) / (9.3 * DAY) + phase2);
  // Roughly a coin's real pace: a few percent a day, under a percent an hour, basis points a minute.
  const noise = valueNoise(seed, t, DAY, 1, 0.03) + valueNoise(seed, t, HOUR, 2, 0.004) +
    valueNoise(seed, t, MINUTE, 3, 0.001) + valueNoise(seed, t, SECOND, 4, 0.0002);
  return info.basePrice * Math.exp(info.volatility * (cycles + noise));
}
