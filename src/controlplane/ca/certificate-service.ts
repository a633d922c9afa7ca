/**
 * The CSR signing endpoint, a gRPC service on the control plane's xDS port(s),
 * shaped like Istio's IstioCertificateService.CreateCertificate. Defined here,
 * once, for the server and for the client (client.ts):
 *
 *   package weft.ca.v1;
 *   service CertificateService {
 *     rpc CreateCertificate(CreateCertificateRequest) returns (CreateCertificateResponse);
 *   }
 *   message CreateCertificateRequest {
 *     string csr = 1;               // PEM PKCS#10; the proxy keeps the key
 *     string namespace = 2;         // the workload; optional with a token (the token names it)
 *     string workload = 3;
 *     int64 validity_seconds = 4;   // optional: shorter than the mesh's certificate lifetime
 *   }
 *   message CreateCertificateResponse {
 *     repeated string cert_chain = 1;  // leaf first, then intermediates (no root)
 *     string trust_bundle = 2;         // PEM roots to trust (two during a rotation)
 *     string expires_at = 3;           // RFC 3339
 *     string spiffe_id = 4;
 *   }
 *
 * Credential: gRPC metadata `authorization: Bearer <workload registration token>`,
 * or, on the mTLS port, the proxy's current certificate as its client certificate.
 * Refusals: INVALID_ARGUMENT (bad CSR), UNAUTHENTICATED (no or wrong credential),
 * PERMISSION_DENIED (another identity), NOT_FOUND (unknown workload), UNAVAILABLE.
 */
import * as grpc from '@grpc/grpc-js';
import type * as Protobuf from 'protobufjs';
import { loadProtobufjs } from '../../xds/protos.js';
import { splitPem } from './authority.js';
import { CaRequestError, type CaRejection, type MeshCa } from './mesh-ca.js';

export const CREATE_CERTIFICATE_PATH = '/weft.ca.v1.CertificateService/CreateCertificate';

export interface CreateCertificateRequest {
  csr: string;
  namespace: string;
  workload: string;
  validity_seconds: string;
}

export interface CreateCertificateResponse {
  cert_chain: string[];
  trust_bundle: string;
  expires_at: string;
  spiffe_id: string;
}

const DESCRIPTOR = {
  nested: {
    weft: { nested: { ca: { nested: { v1: { nested: {
      CreateCertificateRequest: { fields: { csr: { type: 'string', id: 1 }, namespace: { type: 'string', id: 2 }, workload: { type: 'string', id: 3 }, validity_seconds: { type: 'int64', id: 4 } } },
      CreateCertificateResponse: { fields: { cert_chain: { rule: 'repeated', type: 'string', id: 1 }, trust_bundle: { type: 'string', id: 2 }, expires_at: { type: 'string', id: 3 }, spiffe_id: { type: 'string', id: 4 } } },
    } } } } } },
  },
};

interface Codec<T> {
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
}

let codecs: { request: Codec<CreateCertificateRequest>; response: Codec<CreateCertificateResponse> } | undefined;

function codecFor<T>(type: Protobuf.Type): Codec<T> {
  return {
    serialize: (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()),
    deserialize: (bytes) => type.toObject(type.decode(bytes), { longs: String, defaults: true, arrays: true }) as T,
  };
}

export function certificateCodecs(): NonNullable<typeof codecs> {
  if (codecs === undefined) {
    const root = loadProtobufjs().Root.fromJSON(DESCRIPTOR);
    codecs = {
      request: codecFor(root.lookupType('weft.ca.v1.CreateCertificateRequest')),
      response: codecFor(root.lookupType('weft.ca.v1.CreateCertificateResponse')),
    };
  }
  return codecs;
}

/** The service definition for `grpc.Server.addService`. */
export function certificateServiceDefinition(): grpc.ServiceDefinition {
  const { request, response } = certificateCodecs();
  return {
    CreateCertificate: {
      path: CREATE_CERTIFICATE_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: request.serialize,
      requestDeserialize: request.deserialize,
      responseSerialize: response.serialize,
      responseDeserialize: response.deserialize,
    },
  };
}

const STATUS_OF: Readonly<Record<CaRejection, grpc.status>> = {
  invalid_csr: grpc.status.INVALID_ARGUMENT,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  wrong_identity: grpc.status.PERMISSION_DENIED,
  unknown_workload: grpc.status.NOT_FOUND,
  unavailable: grpc.status.UNAVAILABLE,
};

const BEARER = /^Bearer\s+(\S+)$/i;

export function certificateServiceHandlers(ca: MeshCa): grpc.UntypedServiceImplementation {
  const CreateCertificate: grpc.handleUnaryCall<CreateCertificateRequest, CreateCertificateResponse> = (call, callback) => {
    const authorization = call.metadata.get('authorization')[0];
    const token = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
    const peer = call.getAuthContext().sslPeerCertificate?.raw;
    const { csr, namespace, workload, validity_seconds: validity } = call.request;
    ca.sign({
      csrPem: csr,
      ...(namespace === '' ? {} : { namespace }),
      ...(workload === '' ? {} : { workload }),
      ...(token === undefined ? {} : { token }),
      ...(peer === undefined || token !== undefined ? {} : { peerCertificateDer: new Uint8Array(peer) }),
      ...(Number(validity) > 0 ? { validitySeconds: Number(validity) } : {}),
    }).then(
      (result) => callback(null, { cert_chain: splitPem(result.certificateChainPem), trust_bundle: result.trustBundlePem, expires_at: result.expiresAt, spiffe_id: result.spiffeId }),
      (err: unknown) => {
        const rejection = err instanceof CaRequestError ? err.rejection : 'unavailable';
        callback({ code: STATUS_OF[rejection], details: (err as Error).message });
      },
    );
  };
  return { CreateCertificate };
}
