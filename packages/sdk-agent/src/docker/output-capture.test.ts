import { describe, expect, it } from 'vitest';
import { CappedText, DockerDemuxer } from './output-capture.js';

function frame(stream: 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('output capture', () => {
  it('demuxes frames split at every possible byte boundary', () => {
    const wire = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world'), frame(2, '!')]);
    for (let size = 1; size <= wire.length; size++) {
      const out = new CappedText(100);
      const err = new CappedText(100);
      const demux = new DockerDemuxer(out, err);
      for (let i = 0; i < wire.length; i += size) demux.push(wire.subarray(i, i + size));
      expect([out.text(), err.text()]).toEqual(['hello world', 'oops!']);
    }
  });

  it('cuts exactly at the cap and keeps counting what it drops', () => {
    const out = new CappedText(10);
    for (let i = 0; i < 1000; i++) out.write(Buffer.from('abcdefg'));
    expect(out.text()).toBe('abcdefgabc');
    expect(out.truncated).toBe(true);
    expect(out.bytes).toBe(7000);
  });

  it('decodes multi-byte characters split across chunks and never cuts a surrogate pair', () => {
    const euro = Buffer.from('€€');
    const out = new CappedText(10);
    out.write(euro.subarray(0, 2));
    out.write(euro.subarray(2));
    expect(out.text()).toBe('€€');
    const emoji = new CappedText(3);
    emoji.write(Buffer.from('a😀😀'));
    expect(emoji.text()).toBe('a😀');
    expect(emoji.truncated).toBe(true);
  });

  it('is not truncated when the text fits exactly', () => {
    const out = new CappedText(3);
    out.write(Buffer.from('abc'));
    expect([out.text(), out.truncated]).toEqual(['abc', false]);
  });
});
