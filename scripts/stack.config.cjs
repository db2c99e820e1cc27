// pm2 process file of `npm start` (run by pm2-runtime in the foreground): every process of the
// product, each one compiled Node process (`npm run build` first). A process that dies is started
// again after an exponential back-off (100 ms, doubling up to 15 s, reset once it has stayed up
// 30 s), and the others keep serving meanwhile; Ctrl-C (or SIGTERM) stops them all.

/** One compiled service as a pm2 app; `env` comes on top of the environment pm2 was given. */
const nodeApp = (name, script, env = {}) => ({
  name,
  script,
  cwd: `${__dirname}/..`,
  node_args: '--enable-source-maps',
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
};

module.exports = {
  apps: Object.entries(services).map(([name, script]) => nodeApp(name, script)),
  nodeApp,
};
