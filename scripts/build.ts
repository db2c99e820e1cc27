// `npm run build`: compiles each service's entry into one JavaScript file, `<workspace>/dist/`.
// The product's own code (the workspaces, `@tweeter/*`) is bundled in; every third-party package
// stays an import resolved from node_modules at run time, as installed by `npm ci --omit=dev`.
// esbuild strips types without checking them: `npm run typecheck` is the type check.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const workspaces = [
  'shared',
  'command-service',
  'projector',
  'query-service',
  'webhook-dispatcher',
  'web',
];

/** Entry points, relative to the repository root, and the file each compiles to. */
export const entries: Record<string, string> = {
  'command-service/dist/main': 'command-service/src/main.ts',
  'query-service/dist/main': 'query-service/src/main.ts',
  'projector/dist/main': 'projector/src/main.ts',
  'projector/dist/admin': 'projector/src/admin/cli.ts',
  'webhook-dispatcher/dist/main': 'webhook-dispatcher/src/main.ts',
  'web/dist-server/main': 'web/server/main.ts',
};

const thirdParty = new Set<string>();
for (const dir of ['.', ...workspaces]) {
  const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }))
    if (!name.startsWith('@tweeter/')) thirdParty.add(name);
}

const started = performance.now();
const result = await build({
  entryPoints: Object.entries(entries).map(([out, src]) => ({ in: src, out })),
  outdir: '.',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Stack traces name the source files; `node --enable-source-maps` is set where the services run.
  sourcesContent: false,
  external: [...thirdParty].flatMap((name) => [name, `${name}/*`]),
  logLevel: 'warning',
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
for (const [file, output] of outputs)
  console.log(`  ${file}  ${(output.bytes / 1024).toFixed(0)} KiB`);
console.log(`built ${outputs.length} entries in ${Math.round(performance.now() - started)} ms`);

// The web client: Vite bundles it into web/dist, which web/dist-server/main.js serves.
const client = performance.now();
const { build: viteBuild } = await import('vite');
await viteBuild({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
console.log(`built the web client (web/dist) in ${Math.round(performance.now() - client)} ms`);
