/**
 * The bus folder's public surface: the environment layer every other folder builds on (message
 * bus and its two implementations, subjects, codec, typed request/reply, clock, PRNG, errors,
 * bounded queue, logger). Code outside `bus/` imports only from here.
 */
export { assert, unreachable, AssertionError } from './assert.js';
export { SystemClock, SimulatedClock, type Clock, type TimerId } from './clock.js';
export { Prng } from './prng.js';
export {
  KubusError, RemoteError, BusTimeoutError, NoRespondersError, BusClosedError, QueueOverflowError, toWire, fromWire, isWireError,
  type ErrorFields, type ErrorFactory, type WireError,
} from './errors.js';
export type { Bus, BusMessage, SubscribeOptions, Subscription, RequestOptions } from './transport.js';
export { encode, decode } from './codec.js';
export {
  subjects, checkToken, isValidToken, isValidSubject, subjectMatches, InvalidSubjectTokenError, type Subjects,
} from './subjects.js';
export { BoundedQueue } from './bounded-queue.js';
export {
  call, serve, busErrorFactories, type CallOptions, type ServeOptions, type Server, type Handler, type ReplyEnvelope,
} from './rpc.js';
export { SimNetwork, noFaults, type SimFaults, type SimNetworkOptions, type SimNetworkStats } from './sim-network.js';
export { NatsBus, BusConnectError, BusPermissionError, MessageTooLargeError, natsBusLimits, type NatsBusOptions } from './nats-bus.js';
export {
  NatsServerProcess, NatsServerMissingError, NatsServerStartError, findNatsServer, natsServerLimits, type NatsServerStartOptions,
} from './nats-server-process.js';
export { freePort } from './free-port.js';
export {
  createJsonLogger, parseLogLevel, logLevels, InvalidLogLevelError, type Logger, type LogLevel, type LogFields, type JsonLoggerOptions,
} from './logger.js';
export {
  mintUser, memberPermissions, componentPermissions, adminPermissions, agentPermissions, memberUserName, componentUserName, agentUserName, userInboxPrefix,
  createNatsAuthorityKeys, natsAuthorityPublicKeys, natsServerAuthConfig, kubusAccountJwt, natsAuthLimits, kubusAccountName, InvalidNatsUserError,
  readUserClaims, type NatsPermissions, type NatsUser, type NatsUserClaims, type NatsAuthorityKeys, type NatsRevocations,
} from './nats-auth.js';
export {
  NatsCredentials, ensureNatsCredentials, loadNatsCredentials, natsCredentialsDir, natsCredentialsLimits, NatsCredentialsMissingError, NatsRevokeError,
} from './nats-credentials.js';
