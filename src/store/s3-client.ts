// The S3 client imghost talks to a bucket with: bounded connection, request and socket times,
// kept-alive connections, retries for what can be retried.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../config/options.js';

export type S3ClientOptions = Pick<Config, 'store_timeout' | 's3_endpoint' | 's3_region' | 's3_force_path_style'
  | 's3_access_key_id' | 's3_secret_access_key'>;

export function s3Client(opts: S3ClientOptions): S3Client {
  const ms = opts.store_timeout * 1000;
  const agent = { keepAlive: true, maxSockets: 64 };
  return new S3Client({
    region: opts.s3_region,
    endpoint: opts.s3_endpoint === '' ? undefined : opts.s3_endpoint,
    forcePathStyle: opts.s3_force_path_style,
    // Unset: the SDK's chain (AWS_* variables, shared config files, instance roles).
    credentials: opts.s3_access_key_id === ''
      ? undefined
      : { accessKeyId: opts.s3_access_key_id, secretAccessKey: opts.s3_secret_access_key },
    retryMode: 'standard',
    maxAttempts: 4,
    // Since 3.729 the SDK adds CRC32 checksum headers to every upload, which some S3-compatible
    // services refuse (R2 answered 501: aws/aws-sdk-js-v3#6810); SigV4 already signs the body.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: ms,
      // Until the answer's headers, each attempt; a body is then bounded by socket idleness.
      requestTimeout: ms,
      throwOnRequestTimeout: true,
      socketTimeout: ms,
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
    }),
  });
}
