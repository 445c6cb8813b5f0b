/**
 * S3's errors, worded and numbered as S3 answers them (the `Code` is what the SDK turns into the error's `name`).
 * Every error answer is built from this table.
 */
export const S3_ERRORS = {
  AccessDenied: [403, 'Access Denied'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed; a non-empty Access Key (AKID) must be provided in the credential.'],
  InvalidRequest: [400, 'Missing required header for this request: x-amz-content-sha256'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  SlowDown: [503, 'Please reduce your request rate.'],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export interface S3Error {
  status: number;
  code: S3ErrorCode;
  message: string;
  /** Extra elements S3 adds for this error, e.g. `Key`, `BucketName`, `RangeRequested`, in order. */
  fields: [string, string][];
}

export function s3Error(code: S3ErrorCode, fields: Record<string, string | number> = {}, message?: string): S3Error {
  const [status, text] = S3_ERRORS[code];
  return { status, code, message: message ?? text, fields: Object.entries(fields).map(([k, v]) => [k, String(v)]) };
}
