// Probes for load balancers and orchestrators.
import type { FastifyInstance } from 'fastify';
import type { Library } from '../library.js';

export function healthRoutes(app: FastifyInstance, library: Library): void {
  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const checks = await library.readiness();
    const down = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
    return reply.code(down.length === 0 ? 200 : 503).send({ status: down.length === 0 ? 'ready' : 'unavailable', checks, down });
  });
}
