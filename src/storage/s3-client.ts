/**
 * The one place an S3 client is made: the AWS SDK v3 (@aws-sdk/client-s3),
 * loaded only when a location is in a bucket, so that commands on local
 * trees never pay for loading it. Credentials come from the SDK's default
 * chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
 * AWS_PROFILE with the shared config and credentials files, …).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from './location.js';
import { makeSigner, SignedObjects } from './s3-signed.js';

/** The SDK module, as loaded on first use. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

/** Limits of the HTTP connections an S3 client keeps. */
export interface S3ClientLimits {
  /** Most connections open at once (the requests in flight the caller allows). */
  maxSockets: number;
  /** Milliseconds to establish a connection before the request fails. */
  connectTimeoutMs: number;
  /** Milliseconds without a byte on a connection before the request fails. */
  socketTimeoutMs: number;
}

export const DEFAULT_S3_LIMITS: S3ClientLimits = { maxSockets: 64, connectTimeoutMs: 10_000, socketTimeoutMs: 60_000 };

/** An S3 client and the SDK it came from (for command classes). */
export interface S3Handle {
  readonly client: S3Client;
  readonly sdk: S3Sdk;
  /** The endpoint used, for messages ("AWS" when none was configured and the SDK resolves AWS's own). */
  readonly endpoint: string;
  /**
   * The hot object requests (put, head, get) of `bucket`, signed with the client's credentials over the handle's undici
   * Agent (s3-signed.ts).
   */
  objects(bucket: string): SignedObjects;
  /** Closes the client's and the Agent's connections; the handle is unusable afterwards. */
  close(): void;
}

let sdkModule: Promise<S3Sdk> | undefined;

const ignore = (): void => undefined;

/**
 * The SDK's logger: silent. Without one, the SDK writes to the console (its
 * retry middleware "An error was encountered in a non-retryable streaming
 * request." when a streamed PUT fails; the HTTP handler a multi-line
 * "socket usage at capacity" warning when requests queue for connections),
 * which would break gomirror's one-line stderr; failures reach the caller
 * as errors, and queueing is the caller's bounded concurrency at work.
 */
const SILENT_LOGGER = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

/** Loads the SDK once per process. */
export function loadS3Sdk(): Promise<S3Sdk> {
  // The SDK's own switch for its multi-line "Node 20 support ends" warning, which would break gomirror's one-line
  // stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  sdkModule ??= import('@aws-sdk/client-s3');
  return sdkModule;
}

/**
 * How maxSockets is shared: a quarter (at least one) for the SDK client
 * (listings, copies, deletes, bucket checks), the rest (at least one) for
 * the object requests over undici, so that both together stay within it.
 */
export function splitConnections(maxSockets: number): { sdk: number; objects: number } {
  const sdk = Math.max(1, Math.floor(maxSockets / 4));
  return { sdk, objects: Math.max(1, maxSockets - sdk) };
}

/** Makes a client for `settings`; retries are left to the caller (one attempt per request). */
export async function createS3Client(
  settings: S3Settings,
  limits: S3ClientLimits = DEFAULT_S3_LIMITS,
): Promise<S3Handle> {
  const [sdk, { NodeHttpHandler }, http, https, { Agent }] = await Promise.all([
    loadS3Sdk(),
    import('@smithy/node-http-handler'),
    import('node:http'),
    import('node:https'),
    import('undici'),
  ]);
  const region = settings.region ?? 'us-east-1';
  const split = splitConnections(limits.maxSockets);
  const agentOptions = { keepAlive: true, maxSockets: split.sdk };
  const client = new sdk.S3Client({
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    ...(settings.profile !== undefined ? { profile: settings.profile } : {}),
    region,
    forcePathStyle: settings.pathStyle,
    maxAttempts: 1,
    logger: SILENT_LOGGER,
    // Only what S3 requires: Ceph RGW (and other S3 implementations) reject aws-chunked bodies with trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      connectionTimeout: Math.min(limits.connectTimeoutMs, settings.timeoutMs ?? Number.POSITIVE_INFINITY),
      socketTimeout: settings.timeoutMs ?? limits.socketTimeoutMs,
      logger: SILENT_LOGGER,
    }),
  });
  const agent = new Agent({
    connections: split.objects,
    connectTimeout: limits.connectTimeoutMs,
    headersTimeout: limits.socketTimeoutMs,
    bodyTimeout: limits.socketTimeoutMs,
  });
  const signer = await makeSigner(region, () => client.config.credentials());
  const target = { endpoint: settings.endpoint, region, pathStyle: settings.pathStyle };
  return {
    client,
    sdk,
    endpoint: settings.endpoint ?? 'AWS',
    objects: (bucket) => new SignedObjects({ ...target, bucket }, signer, agent),
    close: () => {
      client.destroy();
      void agent.close().catch(() => undefined);
    },
  };
}
