import { describe, expect, it } from 'vitest';
import { decodeAddress, isLoopback } from '../../scripts/sandbox/listeners.ts';

describe('decodeAddress (/proc/net/tcp{,6} format)', () => {
  it('reads IPv4 addresses, which are little-endian words', () => {
    expect(decodeAddress('0100007F')).toBe('127.0.0.1');
    expect(decodeAddress('00000000')).toBe('0.0.0.0');
    expect(decodeAddress('0140407F')).toBe('127.64.64.1');
  });

  it('reads IPv6 addresses: the wildcard, loopback and v4-mapped', () => {
    expect(decodeAddress('00000000000000000000000000000000')).toBe('::');
    expect(decodeAddress('00000000000000000000000001000000')).toBe('::1');
    expect(decodeAddress('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
  });
});

describe('isLoopback', () => {
  it('accepts 127.0.0.0/8 and ::1, nothing else', () => {
    expect(['127.0.0.1', '127.64.0.1', '::1'].map(isLoopback)).toEqual([true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.1', '192.168.1.2'].map(isLoopback)).toEqual([false, false, false, false]);
  });
});
