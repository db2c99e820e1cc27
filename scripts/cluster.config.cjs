// pm2 process file of `npm run start:cluster` (scripts/cluster.sh, which sets the CLUSTER_*
// variables below and runs `npm run build` first): several instances of each service, each one
// compiled Node process, and nginx (deploy/nginx.conf) in front of the command and query services.
// Restarts as in scripts/stack.config.cjs: exponential back-off from 100 ms.
/* global process */
const list = (name) =>
  (process.env[name] ?? '')
    .split(',')
    .map((port) => port.trim())
    .filter(Boolean);

// The same app definition as `npm start`'s.
const { nodeApp: node, projectorNodeArgs } = require('./stack.config.cjs');

// Every process uses the local Redis Cluster (timelines, rate limits, the query side's reads).
const redisEnv = process.env.CLUSTER_REDIS_CLUSTER_NODES
  ? { REDIS_CLUSTER_NODES: process.env.CLUSTER_REDIS_CLUSTER_NODES }
  : {};
const queryEnv = {
  ...redisEnv,
  ...(process.env.CLUSTER_READ_DATABASE_URL
    ? { READ_DATABASE_URL: process.env.CLUSTER_READ_DATABASE_URL }
    : {}),
};

const apps = [
  ...list('CLUSTER_COMMAND_PORTS').map((port, i) =>
    node(`command-${i + 1}`, 'command-service/dist/main.js', { ...redisEnv, COMMAND_PORT: port }),
  ),
  ...list('CLUSTER_QUERY_PORTS').map((port, i) =>
    node(`query-${i + 1}`, 'query-service/dist/main.js', { ...queryEnv, QUERY_PORT: port }),
  ),
  // Every projector runs every projection; each projection copy is one advisory lock, so the
  // first projector to take it runs it and the others wait as standbys, taking over when it dies.
  // The timelines' fan-out partitions are shared: each projector applies its share of them.
  ...list('CLUSTER_PROJECTOR_PORTS').map((port, i) =>
    node(
      `projector-${i + 1}`,
      'projector/dist/main.js',
      { ...redisEnv, PROJECTOR_PORT: port },
      projectorNodeArgs,
    ),
  ),
  node('webhooks', 'webhook-dispatcher/dist/main.js', {
    ...redisEnv,
    DISPATCHER_PORT: process.env.CLUSTER_DISPATCHER_PORT,
    // Digests read the query side through the balancer (API_URL's default would be QUERY_PORT).
    API_URL: `http://127.0.0.1:${process.env.CLUSTER_QUERY_PORT}`,
  }),
  // The web client, forwarding to the services through nginx.
  node('web', 'web/dist-server/main.js', {
    WEB_PORT: process.env.CLUSTER_WEB_PORT,
    COMMAND_URL: `http://127.0.0.1:${process.env.CLUSTER_COMMAND_PORT}`,
    QUERY_URL: `http://127.0.0.1:${process.env.CLUSTER_QUERY_PORT}`,
  }),
];

if (process.env.CLUSTER_NGINX_BIN)
  apps.push({
    name: 'nginx',
    script: process.env.CLUSTER_NGINX_BIN,
    interpreter: 'none',
    args: [
      '-p',
      `${process.env.CLUSTER_NGINX_DIR}/`,
      '-c',
      `${process.env.CLUSTER_NGINX_DIR}/nginx.conf`,
      '-e',
      'logs/error.log',
    ],
    autorestart: true,
    exp_backoff_restart_delay: 100,
    // SIGQUIT: nginx's graceful shutdown (finishes the requests in flight).
    kill_signal: 'SIGQUIT',
    kill_timeout: 10_000,
    merge_logs: true,
    time: false,
  });

module.exports = { apps };
