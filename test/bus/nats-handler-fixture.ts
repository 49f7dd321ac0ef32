/**
 * Child process for nats-bus.integration.test.ts: subscribes to `fixture.poison` with a handler
 * that fails on the first message (an AssertionError or a plain Error, per FIXTURE_KIND) and exits 0
 * once it handled the second. An AssertionError must end this process before that (fail-stop).
 */
import { AssertionError, NatsBus } from '../../bus/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const bus = await NatsBus.connect({
  servers: [env('FIXTURE_URL')], name: 'fixture', user: { jwt: env('FIXTURE_JWT'), seed: env('FIXTURE_SEED'), inboxPrefix: null },
  connectTimeoutMs: 5_000, reconnect: false,
});
bus.subscribe('fixture.poison', (message) => {
  const text = new TextDecoder().decode(message.data);
  if (text === 'poison') {
    if (env('FIXTURE_KIND') === 'assertion') throw new AssertionError('invariant broken by the message');
    throw new Error('an ordinary handler failure');
  }
  void bus.close().then(() => process.exit(0));
}, { pendingMax: 10 });
await bus.flush();
process.stdout.write('subscribed\n');
setTimeout(() => process.exit(3), 30_000).unref();
