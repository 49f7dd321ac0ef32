import { connect } from 'node:net';

/** One TCP request to a balancer: the reply text, or the error code (ECONNREFUSED, ECONNRESET). */
export function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}
