import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web client's build (`npm run build` → web/dist, served by web/server/main.ts). `npm run dev
 * -w web` serves it with hot reload and forwards /api/command and /api/query to the services on
 * their default ports, as the server does.
 */
const commandUrl =
  process.env.COMMAND_URL ?? `http://127.0.0.1:${process.env.COMMAND_PORT ?? 3001}`;
const queryUrl = process.env.QUERY_URL ?? `http://127.0.0.1:${process.env.QUERY_PORT ?? 3002}`;

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    port: Number(process.env.WEB_PORT ?? 3000),
    proxy: {
      '/api/command': { target: commandUrl, rewrite: (p) => p.replace(/^\/api\/command/, '') },
      '/api/query': { target: queryUrl, rewrite: (p) => p.replace(/^\/api\/query/, '') },
    },
  },
});
