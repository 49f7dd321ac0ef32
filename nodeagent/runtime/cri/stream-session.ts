/**
 * An interactive exec or attach on containerd's streaming server: the URL CRI Exec/Attach
 * returns, spoken as Kubernetes' WebSocket channel protocol `v4.channel.k8s.io` (each binary
 * message: one channel byte, then data; 0 stdin, 1 stdout, 2 stderr, 3 the final Status JSON,
 * 4 terminal resize JSON). Why `ws`: Node 20 has no WebSocket client.
 *
 * Limitation of v4 (containerd 1.6 speaks no v5): stdin cannot be half-closed; ending our stdin
 * closes nothing. exec() routes stdin-without-tty sessions to runc-exec.ts for that reason.
 */
import { PassThrough, Writable } from 'node:stream';
import WebSocket from 'ws';
import type { ExecSession } from '../types.js';
import { criLimits } from './limits.js';

export const channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

/** The exit code a Kubernetes Status on the error channel carries (Success → 0; NonZeroExitCode → its cause; other failures → 1... as kubectl reports them). */
export function exitCodeOfStatus(text: string): number {
  try {
    const status = JSON.parse(text) as { status?: string; reason?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    if (status.status === 'Success') return 0;
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
    return Number.isFinite(code) ? code : 1;
  } catch {
    // A runtime error as plain text (the v1 channel protocol) is a failure.
    return text.trim() === '' ? 0 : 1;
  }
}

export interface StreamSessionOptions {
  readonly stdin: boolean;
  readonly tty: boolean;
  /** Attach: the exit code once the stream closes (the container's own). Null for exec: the Status on channel 3 says it. */
  readonly exitOnClose: (() => Promise<number>) | null;
}

export function openStreamSession(url: string, options: StreamSessionOptions): Promise<ExecSession> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io'], { handshakeTimeout: criLimits.streamConnectMs });
  const stdout = new PassThrough();
  const stderr = options.tty ? null : new PassThrough();
  let statusText: string | null = null;
  let closedByUs = false;
  const send = (channelNumber: number, data: Buffer): void => {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(Buffer.concat([Buffer.from([channelNumber]), data]));
  };
  const stdin = options.stdin
    ? new Writable({
        write(chunk: Buffer, _encoding, callback) {
          for (let offset = 0; offset < chunk.length; offset += criLimits.streamFrameBytesMax) send(channel.stdin, chunk.subarray(offset, offset + criLimits.streamFrameBytesMax));
          callback();
        },
      })
    : null;
  const exit = new Promise<number>((resolve) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? data : Buffer.from(data);
      if (bytes.length === 0) return;
      const payload = bytes.subarray(1);
      switch (bytes[0]) {
        case channel.stdout: if (payload.length > 0) stdout.write(payload); break;
        case channel.stderr: if (payload.length > 0) (stderr ?? stdout).write(payload); break;
        case channel.error: statusText = (statusText ?? '') + payload.toString('utf8'); break;
        default: break;
      }
    });
    socket.on('close', () => {
      stdout.end();
      stderr?.end();
      // An attach's Status says only that the stream ended: its exit code is the container's.
      if (closedByUs && statusText === null) resolve(-1);
      else if (options.exitOnClose) options.exitOnClose().then(resolve, () => resolve(-1));
      else resolve(statusText !== null ? exitCodeOfStatus(statusText) : -1);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      resolve({
        stdin,
        stdout,
        stderr,
        resize: (columns, rows) => send(channel.resize, Buffer.from(JSON.stringify({ Width: columns, Height: rows }))),
        exit,
        // Closing the stream detaches: an attached container runs on; an exec'd command loses its terminal/pipes (as with the kubelet).
        close: () => {
          closedByUs = true;
          socket.close();
        },
      });
    });
    // Kept for the socket's whole life: an unhandled 'error' (a reset after open) would crash the agent; 'close' follows it.
    socket.on('error', (error) => reject(error));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`streaming server answered ${response.statusCode} ${response.statusMessage ?? ''}`)));
  });
}
