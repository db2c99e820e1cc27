// pm2 process file of `npm start` (run by pm2-runtime in the foreground): every process of the
// product, each one compiled Node process (`npm run build` first), PROJECTOR_PROCESSES projectors. A process that dies is started
// again after an exponential back-off (100 ms, doubling up to 15 s, reset once it has stayed up
// 30 s), and the others keep serving meanwhile; Ctrl-C (or SIGTERM) stops them all.

/**
 * The projector's young generation: a rebuild allocates a batch's events and plans faster than
 * V8's default 16 MB semi-spaces let them die, and its collector's copying was a fifth of the
 * replay's CPU (docs/operations.md, Memory).
 */
const projectorNodeArgs = '--max-semi-space-size=64';

/** One compiled service as a pm2 app; `env` comes on top of the environment pm2 was given. */
const nodeApp = (name, script, env = {}, nodeArgs = '') => ({
  name,
  script,
  cwd: `${__dirname}/..`,
  node_args: `--enable-source-maps ${nodeArgs}`.trim(),
  exec_mode: 'fork',
  autorestart: true,
  exp_backoff_restart_delay: 100,
  // Services finish their work on SIGTERM (drain requests, end a batch); give them the time.
  kill_timeout: 12_000,
  merge_logs: true,
  time: false,
  env,
});

const services = {
  command: 'command-service/dist/main.js',
  query: 'query-service/dist/main.js',
  projector: 'projector/dist/main.js',
  webhooks: 'webhook-dispatcher/dist/main.js',
  // The web client at WEB_PORT (3000), forwarding to the command and query services.
  web: 'web/dist-server/main.js',
};

/* global process */
// PROJECTOR_PROCESSES (default 1) projector processes: they share the timelines' fan-out
// partitions (and stand by for the other projections); each after the first answers its health
// and /status on PROJECTOR_PORT + 100 × its index.
const projectors = (env = process.env) => {
  const count = Math.max(1, Number.parseInt(env.PROJECTOR_PROCESSES ?? '1', 10) || 1);
  const base = Number.parseInt(env.PROJECTOR_PORT ?? '3003', 10);
  return Array.from({ length: count }, (_, i) =>
    i === 0
      ? nodeApp('projector', services.projector, {}, projectorNodeArgs)
      : nodeApp(
          `projector-${i + 1}`,
          services.projector,
          { PROJECTOR_PORT: String(base + 100 * i) },
          projectorNodeArgs,
        ),
  );
};

const apps = (env = process.env) =>
  Object.entries(services).flatMap(([name, script]) =>
    name === 'projector' ? projectors(env) : [nodeApp(name, script)],
  );

module.exports = { apps: apps(), nodeApp, appsFor: apps, projectorNodeArgs };
