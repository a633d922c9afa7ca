/**
 * The proxy's side of certificate-service.ts: send a CSR and a credential,
 * get the signed chain and the trust bundle. One call, one short-lived channel
 * (renewal runs every few hours).
 */
import * as grpc from '@grpc/grpc-js';
import { certificateCodecs, CREATE_CERTIFICATE_PATH } from './certificate-service.js';

export interface CertificateRequestOptions {
  /** `host:port` of the control plane's xDS port. */
  address: string;
  /** PEM PKCS#10 CSR made with the proxy's own key. */
  csrPem: string;
  /** The workload's registration token (`weft identity NAME --token`). */
  token?: string;
  /** Needed without a token (renewal by certificate); with a token they must match it. */
  namespace?: string;
  workload?: string;
  validitySeconds?: number;
  /** Default insecure (the loopback xDS port); the mTLS port needs `grpc.credentials.createSsl(...)` with the current key and chain. */
  credentials?: grpc.ChannelCredentials;
  timeoutMs?: number;
}

export interface IssuedCertificate {
  /** Leaf first, then intermediates. */
  certificateChainPem: string;
  /** The roots to trust (old and new during a rotation). */
  trustBundlePem: string;
  expiresAt: string;
  spiffeId: string;
}

/** Rejects with an Error whose `code` is the gRPC status and whose message is the CA's reason. */
export async function requestCertificate(options: CertificateRequestOptions): Promise<IssuedCertificate> {
  const { request, response } = certificateCodecs();
  const client = new grpc.Client(options.address, options.credentials ?? grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  try {
    const reply = await new Promise<ReturnType<typeof response.deserialize>>((resolve, reject) => {
      client.makeUnaryRequest(
        CREATE_CERTIFICATE_PATH,
        request.serialize,
        response.deserialize,
        { csr: options.csrPem, namespace: options.namespace ?? '', workload: options.workload ?? '', validity_seconds: String(options.validitySeconds ?? 0) },
        metadata,
        { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
        (err, value) => {
          if (err !== null) reject(Object.assign(new Error(`certificate request to ${options.address} refused: ${err.details || err.message}`, { cause: err }), { code: err.code }));
          else if (value === undefined) reject(new Error(`certificate request to ${options.address}: empty response`));
          else resolve(value);
        },
      );
    });
    return {
      certificateChainPem: `${reply.cert_chain.map((c) => c.trim()).join('\n')}\n`,
      trustBundlePem: reply.trust_bundle,
      expiresAt: reply.expires_at,
      spiffeId: reply.spiffe_id,
    };
  } finally {
    client.close();
  }
}
