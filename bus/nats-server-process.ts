/**
 * Starts a private `nats-server` on loopback for tests, the simulation harness's process mode and
 * `kubus up`: a free port, a generated config (max_payload and the operator-mode authentication of
 * nats-auth.ts), and a wait until it accepts TCP connections, with a deadline. Stopping kills
 * exactly the process this started, by pid.
 *
 * Decision: there is no way to start an open server: `auth` (NatsCredentials.serverConfig()) is
 * required, so every kubus bus refuses anonymous clients, tests included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubusError, type ErrorFields } from './errors.js';
import { freePort } from './free-port.js';

export const natsServerLimits = {
  /** nats-server starts in milliseconds; this covers a loaded CI machine. */
  startTimeoutMs: 10_000,
  /** Between TCP probes while waiting for the server to listen. */
  probeIntervalMs: 25,
  /** Start attempts when another process grabbed the free port first. */
  startAttemptsMax: 3,
  /** After SIGTERM, how long to wait before SIGKILL. */
  stopTimeoutMs: 5_000,
  /** Server stderr kept for the error message of a failed start. */
  stderrKeptBytes: 8 * 1024,
  /** NATS refuses max_payload above 64 MiB. */
  maxPayloadBytesMax: 64 * 1024 * 1024,
} as const;

export class NatsServerMissingError extends KubusError {
  override readonly name = 'NatsServerMissingError';
  readonly code = 'natsServerMissing';
  constructor() {
    super('nats-server is not installed (not on PATH nor in /usr/sbin); install it with: sudo apt-get install -y nats-server');
  }
}

export class NatsServerStartError extends KubusError {
  override readonly name = 'NatsServerStartError';
  readonly code = 'natsServerStart';
  constructor(readonly port: number, detail: string) {
    super(`nats-server did not start on 127.0.0.1:${port}: ${detail}`);
  }
  override fields(): ErrorFields {
    return { port: this.port };
  }
}

export interface NatsServerStartOptions {
  /** Largest message the server accepts; kubus needs at least 2 MiB for store requests. */
  readonly maxPayloadBytes: number;
  /** The operator-mode lines of the configuration: `NatsCredentials.serverConfig()`. */
  readonly auth: string;
  /** A fixed port; a free one is picked otherwise. */
  readonly port?: number;
  readonly startTimeoutMs?: number;
}

/** Where nats-server is, or null. Debian installs it in /usr/sbin, which is not on every PATH. */
export function findNatsServer(): string | null {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = join(directory, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export class NatsServerProcess {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly configDir: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  static async start(options: NatsServerStartOptions): Promise<NatsServerProcess> {
    const binary = findNatsServer();
    if (binary === null) throw new NatsServerMissingError();
    if (!Number.isInteger(options.maxPayloadBytes) || options.maxPayloadBytes <= 0 || options.maxPayloadBytes > natsServerLimits.maxPayloadBytesMax) {
      throw new RangeError(`maxPayloadBytes must be a whole number in (0, ${natsServerLimits.maxPayloadBytesMax}], got ${options.maxPayloadBytes}`);
    }
  if (!/^operator: /m.test(options.auth)) throw new RangeError('NatsServerProcess: auth must be an operator-mode configuration (NatsCredentials.serverConfig())');
    let lastError: Error = new NatsServerStartError(0, 'no attempt made');
    const attempts = options.port !== undefined ? 1 : natsServerLimits.startAttemptsMax;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = options.port ?? (await freePort());
      try {
        return await startOnce(binary, port, options);
      } catch (error) {
        lastError = error as Error;
      }
    }
    throw lastError;
  }

  /** SIGTERM, then SIGKILL after a deadline; resolves once the process has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve();
        }, natsServerLimits.stopTimeoutMs);
      });
      await Promise.race([this.exited, killed]);
      clearTimeout(timer);
      await this.exited;
    }
    rmSync(this.configDir, { recursive: true, force: true });
  }

  /** @internal */
  static create(child: ChildProcess, port: number, configDir: string): NatsServerProcess {
    return new NatsServerProcess(child, port, configDir);
  }
}

async function startOnce(binary: string, port: number, options: NatsServerStartOptions): Promise<NatsServerProcess> {
  const configDir = mkdtempSync(join(tmpdir(), 'kubus-nats-')); // 0700 by mkdtemp
  const configPath = join(configDir, 'nats.conf');
  writeFileSync(configPath, `max_payload: ${options.maxPayloadBytes}\n${options.auth}`, { mode: 0o600 });
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-natsServerLimits.stderrKeptBytes);
  });
  const server = NatsServerProcess.create(child, port, configDir);
  let spawnError: Error | null = null;
  child.once('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? natsServerLimits.startTimeoutMs);
  for (;;) {
    if (spawnError !== null || child.exitCode !== null || child.signalCode !== null) {
      await server.stop();
      const reason = spawnError !== null ? (spawnError as Error).message : `exited with ${child.exitCode ?? child.signalCode}`;
      throw new NatsServerStartError(port, `${reason}; stderr: ${stderr.trim() || '(empty)'}`);
    }
    if (await accepts(port)) return server;
    if (Date.now() >= deadline) {
      await server.stop();
      throw new NatsServerStartError(port, `not accepting connections after ${options.startTimeoutMs ?? natsServerLimits.startTimeoutMs} ms; stderr: ${stderr.trim() || '(empty)'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, natsServerLimits.probeIntervalMs));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
