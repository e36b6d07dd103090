// `imghost serve`: runs the web server until SIGTERM or SIGINT, then shuts down gracefully.
import type { Invocation } from '../config/parse.js';
import { createLogger } from '../log.js';
import { startServer } from '../serve.js';

export async function serve({ config }: Invocation): Promise<number> {
  const logger = createLogger(config);
  const server = await startServer(config, logger);
  logger.info({ url: server.url, db: config.db || 'sqlite (embedded)', data_dir: config.data_dir }, 'imghost is ready');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  await server.close();
  logger.info('stopped');
  logger.flush();
  return 0;
}
