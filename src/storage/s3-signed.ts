/**
 * The hot requests of a tree in a bucket (PutObject, HeadObject, GetObject,
 * and ListObjectsV2, which each module index rewrite sends) signed by a
 * SigV4 signer (`@smithy/signature-v4`, the SDK's own) and sent over undici,
 * without the SDK's middleware stack: the SDK cost about 1.5 ms
 * of CPU per PUT, this path about a third of that (docs/s3.md). Credentials
 * come from the SDK client's provider chain, and the endpoint, region and
 * addressing (path-style or virtual-host) from the same settings, so both
 * paths reach the same objects with the same identity. Keys are encoded per
 * segment as the SDK does (`+` as `%2B`). A non-2xx answer becomes an error
 * shaped as the SDK's (`Code` from the S3 XML error body, `name`, and
 * `$metadata.httpStatusCode`; a HEAD has no body, so its status alone), so
 * s3-errors.ts maps both paths alike.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AwsCredentialIdentity, SourceData } from '@smithy/types';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { Agent } from 'undici';
import { type ListPage, parseListPage } from './s3-listing.js';

/** The SigV4 payload hash of an empty body. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Most bytes of an error body read to find its `<Code>`. */
const MAX_ERROR_BODY = 64 * 1024;

/** What a request needs to know about where the bucket is. */
export interface SignedTarget {
  /** The endpoint URL (`http(s)://host[:port]`), or undefined for AWS's own in `region`. */
  endpoint: string | undefined;
  region: string;
  pathStyle: boolean;
  bucket: string;
}

/** One object request's answer: status, headers and the body (consumed by the caller). */
export interface SignedResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { dump(): Promise<void>; arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string> };
}

/** Where one ListObjectsV2 page starts: the full key prefix, the page size, and a token or a key to start after. */
export interface SignedListInput {
  prefix: string;
  maxKeys: number;
  continuationToken?: string;
  startAfter?: string;
}

/** A PUT's body and headers (content-type, cache-control, metadata …), all signed. */
export interface SignedPut {
  body: Buffer | Readable;
  size: number;
  sha256: string;
  headers: Record<string, string>;
}

/** Node's sha256 (or HMAC-sha256 with a secret) in the hash shape the signer asks for. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

/** SourceData as something node:crypto takes. */
function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The SDK's encoding of one key segment: encodeURIComponent, and `!'()*` too. */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A bucket name the SDK would address as a virtual host (DNS-compatible, no dots). */
function virtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket) && !bucket.includes('--');
}

/** The error of a non-2xx answer, shaped as the SDK's (see the module comment). */
async function responseError(method: string, res: SignedResponse): Promise<Error> {
  let code: string | undefined;
  let message = `HTTP ${res.statusCode}`;
  if (method !== 'HEAD') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      if (size < MAX_ERROR_BODY) chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    message = /<Message>([^<]{0,300})<\/Message>/.exec(text)?.[1] ?? code ?? message;
  } else {
    await res.body.dump();
  }
  const name = code ?? (res.statusCode === 404 ? 'NotFound' : String(res.statusCode));
  return Object.assign(new Error(message), {
    name,
    ...(code !== undefined && { Code: code }),
    $metadata: { httpStatusCode: res.statusCode },
  });
}

/**
 * An undici failure with a Node network code s3-errors.ts knows (timeouts as ETIMEDOUT, closed sockets as ECONNRESET).
 */
function networkError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('UND_ERR_')) return err;
  const mapped = code.includes('TIMEOUT') ? 'ETIMEDOUT' : 'ECONNRESET';
  return Object.assign(new Error((err as Error).message), { code: mapped, cause: err });
}

/** Signs and sends object requests of one bucket through one undici Agent; see the module comment. */
export class SignedObjects {
  private readonly origin: string;
  private readonly host: string;
  private readonly protocol: string;
  private readonly port: number | undefined;
  /** The path before the key: `/bucket/` (path-style) or `/` (virtual host). */
  private readonly base: string;

  /** Requests to target, signed with credentials from `credentials`, sent through `agent` (which the caller closes). */
  constructor(
    target: SignedTarget,
    private readonly signer: SignatureV4,
    private readonly agent: Agent,
  ) {
    const url = new URL(target.endpoint ?? `https://s3.${target.region}.amazonaws.com`);
    const virtual = !target.pathStyle && virtualHostable(target.bucket);
    this.protocol = url.protocol;
    this.host = virtual ? `${target.bucket}.${url.hostname}` : url.hostname;
    this.port = url.port === '' ? undefined : Number(url.port);
    this.origin = `${url.protocol}//${this.host}${url.port === '' ? '' : `:${url.port}`}`;
    this.base = virtual ? '/' : `/${encodeSegment(target.bucket)}/`;
  }

  /** PutObject of key; resolves once the endpoint stored it, rejects with an SDK-shaped error otherwise. */
  async put(key: string, put: SignedPut): Promise<void> {
    const headers = {
      ...put.headers,
      'content-length': String(put.size),
      'x-amz-content-sha256': put.sha256,
    };
    const res = await this.send('PUT', key, headers, put.body);
    await res.body.dump();
  }

  /** HeadObject of key: its headers (the body is empty). */
  async head(key: string): Promise<SignedResponse['headers']> {
    const res = await this.send('HEAD', key, { 'x-amz-content-sha256': EMPTY_SHA256 });
    await res.body.dump();
    return res.headers;
  }

  /** GetObject of key: the answer, whose body the caller must read or dump. */
  async get(key: string): Promise<SignedResponse> {
    return this.send('GET', key, { 'x-amz-content-sha256': EMPTY_SHA256 });
  }

  /** One ListObjectsV2 page of the bucket (s3-listing.ts reads the answer). */
  async list(input: SignedListInput): Promise<ListPage> {
    const query: Record<string, string> = { 'list-type': '2', prefix: input.prefix, 'max-keys': String(input.maxKeys) };
    if (input.continuationToken !== undefined) query['continuation-token'] = input.continuationToken;
    if (input.startAfter !== undefined) query['start-after'] = input.startAfter;
    const res = await this.send('GET', undefined, { 'x-amz-content-sha256': EMPTY_SHA256 }, undefined, query);
    return parseListPage(await res.body.text());
  }

  /** Signs and sends one request for key (undefined: the bucket itself) with `query`; non-2xx answers reject. */
  private async send(
    method: string,
    key: string | undefined,
    headers: Record<string, string>,
    body?: Buffer | Readable,
    query: Record<string, string> = {},
  ): Promise<SignedResponse> {
    const path = key === undefined ? this.base : `${this.base}${key.split('/').map(encodeSegment).join('/')}`;
    const search = Object.entries(query)
      .map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`)
      .join('&');
    const signed = await this.signer.sign({
      method,
      protocol: this.protocol,
      hostname: this.host,
      ...(this.port !== undefined && { port: this.port }),
      path,
      query,
      headers: { ...headers, host: this.port === undefined ? this.host : `${this.host}:${this.port}` },
    });
    let res: SignedResponse;
    try {
      res = (await this.agent.request({
        origin: this.origin,
        method: method as 'GET',
        path: search === '' ? path : `${path}?${search}`,
        headers: signed.headers,
        ...(body !== undefined && { body }),
      })) as unknown as SignedResponse;
    } catch (err) {
      throw networkError(err);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) throw await responseError(method, res);
    return res;
  }
}

/** The signer for target's region, with credentials from `credentials` (the SDK client's provider chain). */
export async function makeSigner(
  region: string,
  credentials: () => Promise<AwsCredentialIdentity>,
): Promise<SignatureV4> {
  const { SignatureV4: Signer } = await import('@smithy/signature-v4');
  return new Signer({
    credentials,
    region,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}
