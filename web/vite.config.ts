import { defineConfig } from 'vite';

// The build goes into the Go package that embeds it (internal/web/dist).
export default defineConfig({
  build: {
    outDir: '../internal/web/dist',
    // scripts/build-web.sh empties it first, keeping the committed .gitkeep.
    emptyOutDir: false,
    assetsDir: 'assets',
    target: 'es2020',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
      '/live': 'http://127.0.0.1:8080',
      '/vod': 'http://127.0.0.1:8080',
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
