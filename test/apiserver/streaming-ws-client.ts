/**
 * A bare WebSocket client for the streaming tests: it offers any subprotocol (the `ws` client
 * refuses `SPDY/3.1+portforward.k8s.io`, as its server does), sends masked binary messages and
 * reads the server's frames, so the tests see exactly the bytes kubectl would.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

export interface RawMessage {
  readonly opcode: number;
  readonly payload: Buffer;
}

export interface RawWebSocket {
  readonly protocol: string | undefined;
  readonly messages: RawMessage[];
  send(payload: Uint8Array): void;
  closed(): boolean;
  /** Sends a close frame (1000) and hangs up. */
  close(): void;
  socket: Socket;
}

export type UpgradeResult = { readonly status: 101; readonly ws: RawWebSocket } | { readonly status: number; readonly body: string };

export function rawUpgrade(options: { port: number; path: string; protocol?: string; method?: string; upgrade?: string }): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Connection: 'Upgrade', Upgrade: options.upgrade ?? 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    };
    if (options.protocol !== undefined) headers['Sec-WebSocket-Protocol'] = options.protocol;
    const req = request({ host: '127.0.0.1', port: options.port, path: options.path, method: options.method ?? 'GET', headers });
    req.on('upgrade', (res, socket, head) => resolve({ status: 101, ws: wrap(socket, head, res.headers['sec-websocket-protocol'] as string | undefined) }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function wrap(socket: Socket, head: Buffer, protocol: string | undefined): RawWebSocket {
  const messages: RawMessage[] = [];
  let buffered = head;
  let ended = false;
  const parse = (): void => {
    for (;;) {
      if (buffered.length < 2) return;
      const opcode = (buffered[0] as number) & 0x0f;
      let length = (buffered[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffered.length < offset + length) return;
      messages.push({ opcode, payload: buffered.subarray(offset, offset + length) });
      buffered = buffered.subarray(offset + length);
      // As kubectl's client does: answer the server's close, then hang up.
      if (opcode === 8 && !socket.destroyed) socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    parse();
  });
  socket.on('close', () => (ended = true));
  socket.on('error', () => undefined);
  parse();
  return {
    protocol, messages, socket,
    send(payload) {
      const mask = randomBytes(4);
      const length = payload.length;
      const header = length < 126 ? Buffer.from([0x82, 0x80 | length])
        : length < 65536 ? Buffer.from([0x82, 0x80 | 126, length >> 8, length & 0xff])
          : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x82;
            h[1] = 0x80 | 127;
            h.writeBigUInt64BE(BigInt(length), 2);
            return h;
          })();
      const masked = Buffer.from(payload);
      for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (mask[i % 4] as number);
      socket.write(Buffer.concat([header, mask, masked]));
    },
    closed: () => ended,
    close() {
      if (!socket.destroyed) socket.end(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]));
    },
  };
}

/** The close frame's code, when the server sent one. */
export function closeCode(ws: RawWebSocket): number | null {
  const close = ws.messages.find((m) => m.opcode === 8);
  return close === undefined || close.payload.length < 2 ? null : close.payload.readUInt16BE(0);
}

/** Binary messages only. */
export function binaryMessages(ws: RawWebSocket): Buffer[] {
  return ws.messages.filter((m) => m.opcode === 2).map((m) => m.payload);
}
