/**
 * The proxy's identity, the interface side: who signs the proxy's CSR.
 *
 * The proxy owns its private key (local-identity.ts) and sends only a CSR; a
 * CertificateSigner turns it into a certificate chain. The control plane's CA
 * (src/controlplane/ca, reached through the xDS agent, agent-signer.ts) is the
 * one implementation in production; tests sign with a CA of their own.
 */
export interface CertificateSigner {
  /** Signs a PEM PKCS#10 CSR; rejects with the CA's reason when refused. */
  sign(csrPem: string): Promise<{ certificateChainPem: string }>;
}
