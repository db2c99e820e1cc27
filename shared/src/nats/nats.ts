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

/** The entries of NATS_URL: one URL, or a comma-separated list of a cluster's servers. */
export function natsUrlList(url: string | readonly string[]): string[] {
  const entries = typeof url === 'string' ? url.split(',') : url;
  return entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
}

/**
 * What the client dials for each NATS_URL entry: `host:port` (4222 when the URL names no port).
 * The client upgrades to TLS when a server asks for it, as it always has for a single URL.
 */
export function natsServers(url: string | readonly string[]): string[] {
  return natsUrlList(url).map((entry) => {
    const { hostname, port } = new URL(entry);
    return `${hostname}:${port || 4222}`;
  });
}

/**
 * Connects to NATS: `url` is NATS_URL, one server or a cluster's list. The client also learns
 * the cluster's other servers from the one it reaches, and reconnects to any of them forever
 * when its server goes away (what it had buffered meanwhile is sent after the reconnect).
 */
export async function connectNats(
  url: string | readonly string[],
  name: string,
): Promise<NatsConnection> {
  const servers = natsServers(url);
  return connect({
    servers: servers.length === 1 ? servers[0] : servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
  });
}
