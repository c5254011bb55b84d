export interface ArmErrorDetail {
  code: string;
  target?: string;
  message: string;
}

/** An ARM error answer: `{"error":{"code","message"[,"details"]}}` with its HTTP status. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ArmErrorDetail[],
  ) {
    super(message);
  }

  get body(): { error: { code: string; message: string; details?: ArmErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** APIM's 400 for a body that fails its validation, one detail per field. */
export function validationError(details: { target: string; message: string }[]): ArmError {
  return new ArmError(
    400,
    "ValidationError",
    "One or more fields contain incorrect values:",
    details.map((detail) => ({ code: "ValidationError", ...detail })),
  );
}
