/** Identifiers a client chooses (trainer, user, group and session ids): SPEC.md §4. */
export const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;

/** What an invalid identifier is told. */
export const IDENTIFIER_RULE = 'must be 1–128 characters of A–Z a–z 0–9 . _ : -';
