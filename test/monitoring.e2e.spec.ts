import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectNats } from '@tweeter/shared';
import {
  freePort,
  repoRoot,
  startStack,
  testNatsEnv,
  testNatsPrefix,
  testNatsServers,
  testReadsFromStandby,
  type Stack,
} from '@tweeter/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DispatcherProcess } from '../webhook-dispatcher/src/testing/dispatcherProcess.ts';
import { deleteEventStream } from '../webhook-dispatcher/src/testing/events.ts';

/**
 * The dashboard (deploy/grafana) and the alert rules (deploy/prometheus) may only use metrics the
 * services export: a renamed metric would leave a panel empty and an alert silent for ever.
 * This scrapes every service of a running stack and checks every name they refer to.
 */

/** Series Prometheus makes itself rather than a service. */
const fromPrometheus = new Set(['up']);
const productPrefixes = /\b(?:http|command|query|projector|webhook|event_store)_[a-z0-9_]+\b/g;

/** The metric names a PromQL expression refers to, histogram series by their family's name. */
export function metricsIn(expression: string): string[] {
  const names = [...expression.matchAll(productPrefixes)].map(([name]) =>
    name.replace(/_(bucket|count|sum)$/, ''),
  );
  if (/\bup\s*[{=<>!]/.test(expression)) names.push('up');
  return [...new Set(names)];
}

function dashboardExpressions(): string[] {
  const path = join(repoRoot, 'deploy/grafana/dashboards/mini-tweeter.json');
  const dashboard = JSON.parse(readFileSync(path, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));
}

function alertExpressions(): string[] {
  const path = join(repoRoot, 'deploy/prometheus/alerts.yml');
  const rules = parse(readFileSync(path, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr));
}

/** Families a /metrics text declares (`# TYPE name kind`). */
const declared = (text: string) =>
  [...text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /gm)].map(([, name]) => name!);

const missingFrom = (exported: Set<string>, names: string[]) =>
  names.filter((name) => !fromPrometheus.has(name) && !exported.has(name));

/**
 * The query service exports its read replica's figures only when it has one (READ_DATABASE_URL):
 * they are checked in the run whose stack reads from the standby (`npm run test:replica`).
 */
const replicaOnly = (name: string) => name.startsWith('query_read_replica_');

describe('metric names of a PromQL expression', () => {
  it('finds the product’s metrics, histogram series by family, and up', () => {
    expect(
      metricsIn(
        'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))) / up{job="x"}',
      ),
    ).toEqual(['http_request_duration_seconds', 'up']);
    expect(metricsIn('max by (projection) (projector_lag_seconds) > 30')).toEqual([
      'projector_lag_seconds',
    ]);
  });
});

describe('the dashboard and the alert rules against a running stack', () => {
  const natsPrefix = testNatsPrefix();
  let stack: Stack;
  let dispatcher: DispatcherProcess | undefined;

  beforeAll(async () => {
    stack = await startStack({ NATS_PREFIX: natsPrefix });
    dispatcher = new DispatcherProcess(await freePort(), {
      DATABASE_URL: stack.database.url,
      ...testNatsEnv(),
      NATS_PREFIX: natsPrefix,
      API_URL: stack.query.baseUrl,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    });
    await dispatcher.start();
  });

  afterAll(async () => {
    await dispatcher?.kill();
    // The projector made the event stream under this prefix; the stack does not own it.
    const nc = await connectNats(testNatsServers(), 'monitoring-e2e-cleanup');
    await deleteEventStream(nc, natsPrefix);
    await nc.close();
    await stack?.stop();
  });

  it('refers only to metrics some service exports', async () => {
    const services = [stack.command, stack.query, stack.projector, dispatcher!];
    const exported = new Set<string>();
    for (const service of services) {
      const response = await fetch(`${service.baseUrl}/metrics`);
      expect(response.status, service.baseUrl).toBe(200);
      const names = declared(await response.text());
      // Every service has the shared request metrics.
      expect(names, service.baseUrl).toContain('http_request_duration_seconds');
      for (const name of names) exported.add(name);
    }

    const dashboard = dashboardExpressions();
    const alerts = alertExpressions();
    expect(dashboard.length).toBeGreaterThanOrEqual(20);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    let referenced = [...new Set([...dashboard, ...alerts].flatMap(metricsIn))].sort();
    expect(referenced.length).toBeGreaterThanOrEqual(15);
    if (!testReadsFromStandby()) {
      const unchecked = referenced.filter(replicaOnly);
      console.warn(
        `monitoring.e2e: ${unchecked.join(', ')} not checked here: the stack has no read replica (npm run test:replica checks them)`,
      );
      referenced = referenced.filter((name) => !replicaOnly(name));
    }
    expect(missingFrom(exported, referenced)).toEqual([]);
    // The check itself notices a name nobody exports.
    expect(missingFrom(exported, metricsIn('rate(projector_renamed_total[1m])'))).toEqual([
      'projector_renamed_total',
    ]);
  });
});
