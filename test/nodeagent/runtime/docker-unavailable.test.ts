/**
 * Without an engine: opening the docker runtime fails with RuntimeUnavailableError naming the
 * socket it tried (what `kubus agent --runtime docker` prints), and a runtime whose engine went
 * away reports it in its status (runtimeReady false, with the endpoint) instead of throwing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { DockerRuntime } from '../../../nodeagent/runtime/docker/index.js';
import { openRuntime, RuntimeUnavailableError, type RuntimeOptions } from '../../../nodeagent/runtime/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h2-unavailable-'));
const socket = join(dir, 'no-engine.sock');
const options: RuntimeOptions = { dir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent, docker: { socket } };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docker runtime without an engine', () => {
  it('open fails naming the socket', async () => {
    const failure = await openRuntime('docker', options).then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(RuntimeUnavailableError);
    expect((failure as RuntimeUnavailableError).endpoint).toBe(socket);
    expect((failure as Error).message).toContain('is dockerd running?');
  });

  it('status says the engine does not answer', async () => {
    const runtime = new DockerRuntime(new Docker({ socketPath: socket }), options, { sandboxImage: 'kubus.local/pause:3.10', network: 'bridge', namePrefix: 'kubus-test-h2', endpoint: socket });
    const status = await runtime.status();
    expect(status).toMatchObject({ runtimeReady: false, networkReady: false });
    expect(status.message).toContain(socket);
    await runtime.close();
  });
});
