/**
 * A joined node's live connection to the cluster: the bus and the API client the agent's parts get
 * (AgentContext.bus/.api), usable at once, connected in the background, renewed before expiry.
 *
 * Decision: `open` never waits for NATS. The parts are built on a DeferredBus that the real NATS
 * connection is attached to when it comes, so an agent restarted while the control plane is
 * unreachable restores its pods first (issue 11 §6) and joins the bus when it returns.
 *
 * Decision: renewal without restarting anything. NATS user and API token are renewed at 2/3 of
 * their life with the node's certificate (one request gives both): the token is swapped in the API
 * client, and a second connection with the new JWT takes over from the first (make before break,
 * deferred-bus.ts `handOver`); the old one is closed `handoverGraceMs` later, when its requests in
 * flight had their time. A plain reconnect lost those replies. Each connection also reads the
 * newest JWT on its own reconnects (bus/nats-bus.ts credentials provider). The certificate is renewed at
 * 80 % with a CSR made by the node itself. One timer, never longer than `timerMaxMs` (a timer past
 * 2^31 ms fires at once in Node; a year-long certificate is re-checked hourly).
 */
import type { Clock, TimerId } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { Bus } from '../../bus/transport.js';
import { agentUserName } from '../../bus/nats-auth.js';
import { NatsBus } from '../../bus/nats-bus.js';
import { DeferredBus } from './deferred-bus.js';
import { fetchCredentials, renewCertificate, type JoinEnvironment, type Joined } from './join.js';
import { saveCredentials, saveIdentity, type StoredIdentity } from './identity-store.js';
import { joinLimits } from './limits.js';
import type { NodeCredentials } from './node-credentials.js';
import { certificateRenewAtMs, credentialsRenewAtMs, credentialsValidAt, retryDelayMs } from './renewal.js';
import { RenewingApiClient } from './renewing-api-client.js';

export const sessionLimits = {
  /** The renewal timer re-checks at least this often (and never arms a timer Node would fire at once). */
  timerMaxMs: 60 * 60_000,
  /** The replaced connection stays open this long after a hand-over: the API's request timeout (10 s) and a margin. */
  handoverGraceMs: 12_000,
} as const;

export interface SessionOptions {
  readonly dir: string;
  /** `--nats`: the URLs to connect to instead of the ones the API hands out (a real host behind NAT). */
  readonly natsServers?: readonly string[];
  readonly clock: Clock;
  readonly env: JoinEnvironment;
}

export class NodeSession {
  readonly bus: DeferredBus;
  readonly api: RenewingApiClient;
  private stopped = false;
  private timer: TimerId | null = null;
  private recovering = false;
  private lastRecoveryMs = Number.NEGATIVE_INFINITY;
  /** Replaced connections waiting out their grace. */
  private readonly closing = new Map<TimerId, Bus>();
  private markConnected: () => void = () => {};
  private readonly connectedOnce: Promise<void>;
  private readonly log: Logger;

  private constructor(private identity: StoredIdentity, private credentials: NodeCredentials, private readonly options: SessionOptions) {
    this.log = options.env.logger.child({ node: identity.node });
    this.bus = new DeferredBus(agentUserName(identity.node));
    this.api = new RenewingApiClient({
      bus: this.bus, cluster: credentials.nats.cluster, clock: options.clock, inboxOwner: agentUserName(identity.node), token: credentials.apiToken.token,
    });
    this.connectedOnce = new Promise((resolve) => {
      this.markConnected = resolve;
    });
  }

  /** With stored credentials (even expired: they name the cluster) it returns at once; a first join without any asks the API. */
  static async open(joined: Joined, options: SessionOptions): Promise<NodeSession> {
    let credentials = joined.credentials;
    if (credentials === null) {
      credentials = await fetchCredentials(joined.identity, options.env, joinLimits.joinAttemptsMax);
      saveCredentials(options.dir, credentials);
    }
    const session = new NodeSession(joined.identity, credentials, options);
    void session.run();
    return session;
  }

  get node(): string {
    return this.identity.node;
  }

  get cluster(): string {
    return this.credentials.nats.cluster;
  }

  /** Resolves once NATS is connected the first time. */
  connected(): Promise<void> {
    return this.connectedOnce;
  }

  /** Expiry of the current NATS user (tests, status). */
  credentialsExpireAt(): string {
    return this.credentials.nats.expiresAt;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.markConnected();
    for (const [timer, previous] of this.closing) {
      this.options.clock.clearTimeout(timer);
      await previous.close();
    }
    this.closing.clear();
    await this.bus.close();
  }

  private async run(): Promise<void> {
    try {
      if (!credentialsValidAt(this.credentials, this.options.env.nowMs() + joinLimits.natsConnectTimeoutMs)) await this.renewCredentials();
      await this.connect();
    } catch (error) {
      if (!this.stopped) this.log.error('cannot connect the node to the cluster; pods keep running', { error: String(error) });
    }
    this.schedule();
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const servers = this.servers();
      try {
        const nats = await this.connectOnce();
        if (this.stopped) {
          await nats.close();
          return;
        }
        this.bus.attach(nats);
        this.markConnected();
        this.log.info('connected to NATS', { servers: servers.join(',') });
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log.warn(`NATS at ${servers.join(',')} not reachable (${message}); retrying`, { attempt });
        // Refused credentials (expired while the agent was down, or revoked) are renewed before the next try.
        if (/authori[sz]ation|expired|revoked/i.test(message)) await this.renewCredentials();
        await this.options.env.sleep(retryDelayMs(attempt));
      }
    }
  }

  private servers(): readonly string[] {
    return this.options.natsServers ?? this.credentials.nats.servers;
  }

  private connectOnce(): Promise<NatsBus> {
    let self: NatsBus | null = null;
    const connecting = NatsBus.connect({
      servers: this.servers(), name: agentUserName(this.identity.node), user: this.credentials.nats, credentials: () => this.credentials.nats,
      connectTimeoutMs: joinLimits.natsConnectTimeoutMs, reconnect: true, logger: this.log,
      // Only the current connection's refusal matters: a replaced one expiring in its grace is expected.
      onAuthRefused: (detail) => {
        if (self !== null && this.bus.isCurrent(self)) this.recoverFromRefusal(detail);
      },
    });
    return connecting.then((bus) => (self = bus));
  }

  /**
   * The server refused the current connection's user (revoked when the Node was deleted, or
   * expired while renewal failed): new credentials with the node's certificate and a new
   * connection, as a kubelet re-registers after its Node was deleted. At most one recovery at a
   * time, and not more often than `retryDelayMaxMs`.
   */
  private recoverFromRefusal(detail: string): void {
    const now = this.options.env.nowMs();
    if (this.recovering || this.stopped || now - this.lastRecoveryMs < joinLimits.retryDelayMaxMs) return;
    this.recovering = true;
    this.lastRecoveryMs = now;
    this.log.warn('NATS refused the node\'s user; asking for new credentials', { detail });
    void this.renewCredentials()
      .then(() => this.replaceConnection())
      .catch((error: unknown) => {
        if (!this.stopped) this.log.error('recovering from the refusal failed; pods keep running', { error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => {
        this.recovering = false;
      });
  }

  /** A connection with the current credentials takes over; the old one closes after the grace. */
  private async replaceConnection(): Promise<void> {
    if (!this.bus.attached()) return; // still connecting: that connection will use the new JWT
    const next = await this.connectOnce();
    const previous = await this.bus.handOver(next);
    if (previous === null) return;
    const timer = this.options.clock.setTimeout(() => {
      this.closing.delete(timer);
      void previous.close();
    }, sessionLimits.handoverGraceMs);
    this.closing.set(timer, previous);
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.options.env.nowMs();
    const due = Math.min(credentialsRenewAtMs(this.credentials), certificateRenewAtMs(this.identity.certPem));
    const delayMs = Math.max(0, Math.min(due - now, sessionLimits.timerMaxMs));
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.renewDue().finally(() => this.schedule());
    }, delayMs);
  }

  private async renewDue(): Promise<void> {
    const now = this.options.env.nowMs();
    try {
      if (now >= certificateRenewAtMs(this.identity.certPem)) {
        this.identity = await renewCertificate(this.identity, this.options.env, () => this.stopped);
        saveIdentity(this.options.dir, this.identity);
        this.log.info('certificate renewed');
      }
      if (now >= credentialsRenewAtMs(this.credentials)) {
        await this.renewCredentials();
        await this.replaceConnection();
      }
    } catch (error) {
      if (this.stopped) return;
      // A refusal (identity revoked) or a long outage: say so and try again later; pods keep running.
      this.log.error('renewal failed; retrying', { error: error instanceof Error ? error.message : String(error), retryInMs: joinLimits.retryDelayMaxMs });
      await this.options.env.sleep(joinLimits.retryDelayMaxMs);
    }
  }

  private async renewCredentials(): Promise<void> {
    const credentials = await fetchCredentials(this.identity, this.options.env, Number.POSITIVE_INFINITY, () => this.stopped);
    saveCredentials(this.options.dir, credentials);
    this.credentials = credentials;
    this.api.setToken(credentials.apiToken.token);
    this.log.info('NATS user and API token renewed', { expiresAt: credentials.nats.expiresAt });
  }
}
