/** The SDK ships no types; these cover the calls backend makes (responses are axios responses). */
declare module '@amazonpay/amazon-pay-api-sdk-nodejs' {
  export interface AmazonPayConfig {
    publicKeyId: string;
    privateKey: string | Buffer;
    region: 'jp' | 'us' | 'na' | 'eu' | 'de' | 'uk';
    sandbox?: boolean;
    algorithm?: 'AMZN-PAY-RSASSA-PSS' | 'AMZN-PAY-RSASSA-PSS-V2';
    /** host:port of a stand-in; the SDK then disables TLS verification process-wide (tests only). */
    overrideServiceUrl?: string;
  }
  export interface AmazonPayResponse<T = Record<string, unknown>> {
    status: number;
    data: T;
    headers: Record<string, string>;
  }
  type Headers = Record<string, string> | null;
  export class WebStoreClient {
    constructor(config: AmazonPayConfig);
    generateButtonSignature(payload: string | object): string;
    createCheckoutSession(payload: object, headers: Headers): Promise<AmazonPayResponse>;
    getCheckoutSession(checkoutSessionId: string, headers?: Headers): Promise<AmazonPayResponse>;
    updateCheckoutSession(
      checkoutSessionId: string,
      payload: object,
      headers?: Headers,
    ): Promise<AmazonPayResponse>;
    completeCheckoutSession(
      checkoutSessionId: string,
      payload: object,
      headers?: Headers,
    ): Promise<AmazonPayResponse>;
    getChargePermission(chargePermissionId: string, headers?: Headers): Promise<AmazonPayResponse>;
    closeChargePermission(
      chargePermissionId: string,
      payload: object,
      headers?: Headers,
    ): Promise<AmazonPayResponse>;
    createCharge(payload: object, headers: Headers): Promise<AmazonPayResponse>;
    getCharge(chargeId: string, headers?: Headers): Promise<AmazonPayResponse>;
  }
}
