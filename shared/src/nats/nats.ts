import { connect, type NatsConnection } from 'nats';

export type { NatsConnection };

/** Names of the product's JetStream objects; NATS_PREFIX keeps stacks and test runs apart. */
export function natsNames(prefix: string) {
  const tag = prefix.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    stream: tag ? `${tag}_TWEETER_EVENTS` : 'TWEETER_EVENTS',
    subjectPrefix: tag ? `${tag}.tweeter.events` : 'tweeter.events',
  } as const;
}

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const { hostname, port } = new URL(url);
  return connect({
    servers: `${hostname}:${port || 4222}`,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
  });
}
