/**
 * Child process for nats-bus.integration.test.ts: publishes `fixture.pending`, calls
 * `sendPending()`, then blocks its thread (as an fsync would) until the file FIXTURE_RELEASE
 * exists, which the test creates once the message arrived. Without `sendPending` nats.js would
 * write the message only after the block, so the test would never see it and this child gives up
 * after its deadline (exit 4).
 */
import { existsSync } from 'node:fs';
import { NatsBus } from '../../bus/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

/** How long the child blocks waiting for the test before it gives up: covers a loaded CI host. */
const blockedMaxMs = 20_000;

const bus = await NatsBus.connect({
  servers: [env('FIXTURE_URL')], name: 'pending-fixture', user: { jwt: env('FIXTURE_JWT'), seed: env('FIXTURE_SEED'), inboxPrefix: null },
  connectTimeoutMs: 5_000, reconnect: false,
});
bus.publish('fixture.pending', new TextEncoder().encode('sent while blocked'));
bus.sendPending();
const deadline = Date.now() + blockedMaxMs;
let released = false;
while (Date.now() < deadline) {
  if (existsSync(env('FIXTURE_RELEASE'))) {
    released = true;
    break;
  }
}
process.exit(released ? 0 : 4);
