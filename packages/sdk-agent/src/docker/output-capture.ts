import { StringDecoder } from 'node:string_decoder';

/**
 * Text of one stream, capped at `maxChars` characters while it streams: past the cap the bytes are
 * counted and dropped, so memory stays flat however much the script prints.
 */
export class CappedText {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] = [];
  private length = 0;
  /** Whether anything was dropped. */
  truncated = false;
  /** Bytes received in total, dropped ones included. */
  bytes = 0;

  constructor(private readonly maxChars: number) {}

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.truncated) return;
    this.append(this.decoder.write(chunk));
  }

  private append(text: string): void {
    if (text.length === 0) return;
    const room = this.maxChars - this.length;
    if (text.length <= room) {
      this.parts.push(text);
      this.length += text.length;
      return;
    }
    let cut = text.slice(0, room);
    // Never end on half of a surrogate pair.
    const last = cut.charCodeAt(cut.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
    this.parts.push(cut);
    this.length += cut.length;
    this.truncated = true;
  }

  /** The captured text. */
  text(): string {
    if (!this.truncated) this.append(this.decoder.end());
    return this.parts.join('');
  }
}

/**
 * Splits Docker's multiplexed attach stream (8-byte header: stream type, 3 zero bytes, big-endian
 * length) into stdout and stderr. Written instead of `modem.demuxStream`, which re-concatenates its
 * whole buffer on every chunk; here a payload is handed on as soon as any of it arrives.
 */
export class DockerDemuxer {
  private header = Buffer.alloc(8);
  private headerFill = 0;
  private remaining = 0;
  private target: CappedText | undefined;

  constructor(
    private readonly stdout: CappedText,
    private readonly stderr: CappedText,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < 8) return;
        this.headerFill = 0;
        this.remaining = this.header.readUInt32BE(4);
        this.target = this.header[0] === 2 ? this.stderr : this.stdout;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      this.target!.write(chunk.subarray(offset, offset + take));
      this.remaining -= take;
      offset += take;
    }
  }
}
