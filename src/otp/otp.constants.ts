/** What a one-time code may be used for; a code only works for the purpose it was sent for. */
export type OtpPurpose = 'sign-in' | 'reset-password';
