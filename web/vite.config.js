// Vite bundles the dashboard into dist/, which the daemon serves (config key web_root).
// Everything is local: no CDN, no external fonts or tiles. No inline scripts are emitted, so the
// daemon's Content-Security-Policy (script-src 'self') holds.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a local daemon: vigil serve --listen 127.0.0.1:8443
    proxy: { '/api': 'http://127.0.0.1:8443' },
  },
});
