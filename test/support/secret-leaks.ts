/**
 * Looking for secrets in text: every encoded form a secret could take on its way into a log, an
 * answer or a store.
 */

/**
 * Every form in which `secret` could be written: plain, JSON-escaped (also with `\/` and `\uXXXX`),
 * URL-encoded, hex, and base64 / base64url at each of the 3 byte alignments it could have inside a
 * longer encoded text (the characters that depend on its bytes alone).
 */
export function formsOf(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const asciiJson = json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = [0, 1, 2].flatMap((shift) => {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const first = Math.ceil(shift / 3);
    const last = Math.floor((shift + bytes.length) / 3);
    const stable = encoded.slice(first * 4, last * 4);
    return [stable, stable.replace(/\+/g, '-').replace(/\//g, '_')];
  });
  return [
    ...new Set([
      secret,
      json,
      json.replace(/\//g, '\\/'),
      asciiJson,
      asciiJson.toUpperCase(),
      encodeURIComponent(secret),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      ...base64,
    ]),
  ];
}

/** Which secrets appear in `text`, and in which form (also any 16-character piece, in plain). */
export function leaks(text: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    formsOf(secret).forEach((form, i) => {
      if (text.includes(form)) found.push(`${name} (form ${i}: ${form.slice(0, 6)}…)`);
    });
    for (let at = 0; at + 16 <= secret.length; at++) {
      if (text.includes(secret.slice(at, at + 16))) {
        found.push(`${name} (16 characters from ${at})`);
        break;
      }
    }
  }
  return found;
}
