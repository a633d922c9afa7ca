// Builds the web UI into dist/ui, which the control plane serves at `/`.
// `WEFT_API=http://127.0.0.1:15080 npx vite --config ui/vite.config.ts` serves it
// in development with the API proxied to a running control plane.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const uiRoot = new URL('.', import.meta.url).pathname;
const api = globalThis.process?.env['WEFT_API'] ?? 'http://127.0.0.1:15080';

export default defineConfig({
  root: uiRoot,
  base: './',
  plugins: [react()],
  build: { outDir: new URL('../dist/ui', import.meta.url).pathname, emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: Object.fromEntries(['/api', '/apis', '/openapi.json', '/healthz'].map((path) => [path, { target: api, changeOrigin: false }])),
  },
});
