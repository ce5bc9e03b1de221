/**
 * Re-sealing of stored connection secrets under the current `SECRET_KEY` (`npm run
 * rotate-secrets`, README "Rotating SECRET_KEY"). Every secret whose key id is not the current
 * key's is opened (under a key of `SECRET_KEY_PREVIOUS`) and sealed again, written with a
 * compare-and-set so a value changed meanwhile is read again, never overwritten. Nothing is
 * remembered between runs: a run resumes a killed one by skipping what is already under the
 * current key, and runs at once share the work. A secret no key here opens is left as it is and
 * reported.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type SealedSecret, type SecretBox, SecretBoxError, sealedKeyId } from './secret-box.js';
import type { SecretStore } from './secret-store.js';

/** How a rotation runs. */
export interface RotationOptions {
  readonly store: SecretStore;
  /** Seals under the new key, opens under it and the previous ones. */
  readonly box: SecretBox;
  /** Connection ids asked for per scan page, re-sealed at once (`--batch`). */
  readonly batch: number;
  /** At most this many secrets re-sealed per second (`--rate`); 0 for no limit. */
  readonly ratePerS: number;
  /** Called after every page. */
  readonly onProgress?: (counts: RotationCounts) => void;
}

/** What a rotation found and did. */
export interface RotationCounts {
  /** Connection ids looked at. */
  scanned: number;
  /** Re-sealed under the current key by this run. */
  resealed: number;
  /** Already under the current key (re-sealed earlier, or by another run at once). */
  current: number;
  /** Deleted while the run read them. */
  gone: number;
  /** Not opened by any key here: left as they were. */
  readonly unreadable: { readonly connectionId: string; readonly reason: string }[];
}

type Outcome = 'resealed' | 'current' | 'gone' | { unreadable: string };

/** Re-seals every stored secret not under `box`'s current key (see the module comment). */
export async function rotateSecrets(options: RotationOptions): Promise<RotationCounts> {
  const counts: RotationCounts = { scanned: 0, resealed: 0, current: 0, gone: 0, unreadable: [] };
  const started = Date.now();
  let cursor = '0';
  do {
    const page = await options.store.scan(cursor, options.batch);
    cursor = page.cursor;
    const outcomes = await Promise.all(page.connectionIds.map((id) => resealOne(options, id)));
    outcomes.forEach((outcome, i) => {
      counts.scanned += 1;
      if (typeof outcome === 'string') counts[outcome] += 1;
      else
        counts.unreadable.push({
          connectionId: page.connectionIds[i]!,
          reason: outcome.unreadable,
        });
    });
    options.onProgress?.(counts);
    if (options.ratePerS > 0) {
      await sleep(
        Math.max(0, (counts.resealed / options.ratePerS) * 1000 - (Date.now() - started)),
      );
    }
  } while (cursor !== '0');
  return counts;
}

/** Re-seals one connection's secret unless it is under the current key already. */
async function resealOne(options: RotationOptions, connectionId: string): Promise<Outcome> {
  const { store, box } = options;
  for (;;) {
    const stored = await store.get(connectionId);
    if (stored === undefined) return 'gone';
    if (sealedKeyId(stored) === box.keyId) return 'current';
    let next: SealedSecret;
    try {
      next = box.seal(box.open(stored, connectionId), connectionId);
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      return { unreadable: `${error.reason}: ${error.message}` };
    }
    if (await store.replace(connectionId, stored, next)) return 'resealed';
    // changed since it was read (another run re-sealed it, or it was deleted): read it again
  }
}

/** The live instances (from the instance registry) that seal under a key other than `keyId`. */
export function instancesOnOtherKeys(
  live: readonly { serverId: string; info?: { secretKeyId?: string } | undefined }[],
  keyId: string,
): string[] {
  return live
    .filter((entry) => entry.info?.secretKeyId !== keyId)
    .map((entry) => `${entry.serverId} (key ${entry.info?.secretKeyId ?? 'unknown'})`);
}
