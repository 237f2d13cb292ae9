import { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { turnBatcher } from './turn-batching.js';

/** A socket stand-in that records each underlying write call (one entry = one syscall on a real socket). */
function recordingSocket() {
  const calls: string[][] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  });
  return { socket, calls };
}

describe('turnBatcher', () => {
  it('hands every frame of one loop turn to the socket in a single write', async () => {
    const { socket, calls } = recordingSocket();
    const hold = turnBatcher(socket);
    for (const f of ['a', 'b', 'c']) {
      hold();
      socket.write(f);
    }
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(socket.writableCorked).toBe(0);
  });

  it('flushes a lone frame within the same turn and batches the next turn separately', async () => {
    const { socket, calls } = recordingSocket();
    const hold = turnBatcher(socket);
    hold();
    socket.write('lone');
    await nextTurn();
    expect(calls).toEqual([['lone']]);
    hold();
    socket.write('x');
    hold();
    socket.write('y');
    await nextTurn();
    expect(calls).toEqual([['lone'], ['x', 'y']]);
  });

  it('is safe when the socket ends or is destroyed while corked', async () => {
    const ended = recordingSocket();
    const holdEnded = turnBatcher(ended.socket);
    holdEnded();
    ended.socket.write('bye');
    ended.socket.end();
    await nextTurn();
    expect(ended.calls.flat()).toEqual(['bye']);
    holdEnded();
    expect(ended.socket.writableCorked).toBe(0);

    const destroyed = recordingSocket();
    const holdDestroyed = turnBatcher(destroyed.socket);
    holdDestroyed();
    destroyed.socket.write('dropped');
    destroyed.socket.destroy();
    await nextTurn();
    holdDestroyed();
    expect(destroyed.socket.destroyed).toBe(true);
    expect(destroyed.calls).toEqual([]);
  });
});
