/**
 * Finds a TCP port on loopback that is free right now, by letting the kernel pick one. Another
 * process may take it before the caller binds it; callers that spawn a server retry on that
 * (see NatsServerProcess), which is why this is a function and not a guarantee.
 */
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
