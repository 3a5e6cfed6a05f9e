import { and, asc, eq, isNull, lt, ne } from 'drizzle-orm';
import { verificationRecordName, verificationRecordValue } from '../../core/domains';
import type { Database } from '../../db/client';
import { type Domain, domains } from '../../db/schema';
import type { Audit } from '../audit';
import type { TxtResolver } from './dns';

/** A project's custom domains, oldest first. */
export function domainsOf(db: Database, projectId: string) {
  return db
    .select()
    .from(domains)
    .where(eq(domains.projectId, projectId))
    .orderBy(asc(domains.createdAt), asc(domains.hostname));
}

export async function findDomain(db: Database, projectId: string, id: string) {
  const [row] = await db
    .select()
    .from(domains)
    .where(and(eq(domains.id, id), eq(domains.projectId, projectId)));
  return row;
}

/** Days an unverified domain stays claimed: another project may add it after that. */
export const UNVERIFIED_CLAIM_DAYS = 7;

export type AddOutcome = Domain | 'exists' | 'taken' | 'claimed';

/**
 * Adds a domain to the project, unverified. A host name is one project's at a time: `exists`
 * when this project has it, `taken` when another verified it, `claimed` when another added it
 * within UNVERIFIED_CLAIM_DAYS without verifying it. An older unverified claim lapses here, so
 * nobody can hold a domain they cannot prove is theirs.
 */
export function addDomain(
  db: Database,
  projectId: string,
  hostname: string,
  audit: Audit,
  now = new Date(),
): Promise<AddOutcome> {
  return db.transaction(async (tx) => {
    const lapsed = await tx
      .delete(domains)
      .where(
        and(
          eq(domains.hostname, hostname),
          ne(domains.projectId, projectId),
          isNull(domains.verifiedAt),
          lt(domains.createdAt, new Date(now.getTime() - UNVERIFIED_CLAIM_DAYS * 86_400_000)),
        ),
      )
      .returning({ id: domains.id });
    const [row] = await tx
      .insert(domains)
      .values({ projectId, hostname })
      .onConflictDoNothing({ target: domains.hostname })
      .returning();
    if (!row) {
      const [existing] = await tx.select().from(domains).where(eq(domains.hostname, hostname));
      if (existing?.projectId === projectId) return 'exists';
      return existing?.verifiedAt ? 'taken' : 'claimed';
    }
    await audit(tx, {
      action: 'domain.added',
      targetType: 'domain',
      targetId: row.id,
      metadata: { hostname, ...(lapsed.length > 0 && { lapsed_claim: true }) },
    });
    return row;
  });
}

export function removeDomain(db: Database, domain: Domain, audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx.delete(domains).where(eq(domains.id, domain.id)).returning();
    if (!row) return false;
    await audit(tx, {
      action: 'domain.removed',
      targetType: 'domain',
      targetId: row.id,
      metadata: { hostname: row.hostname, verified: row.verifiedAt !== null },
    });
    return true;
  });
}

/**
 * The domain's verification token: an HMAC of its id under the platform key, so it needs no
 * column, cannot be guessed from the host name, and a removed and re-added domain gets a new one.
 */
export async function verificationToken(secret: string, domainId: string) {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign(
    'HMAC',
    key,
    new TextEncoder().encode(`domain-verification:${domainId}`),
  );
  const hex = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return hex.slice(0, 32);
}

/** The TXT record that proves control of the domain. */
export async function verificationRecord(secret: string, domain: Domain) {
  return {
    type: 'TXT' as const,
    name: verificationRecordName(domain.hostname),
    value: verificationRecordValue(await verificationToken(secret, domain.id)),
  };
}

export type VerifyOutcome =
  | { verified: true; domain: Domain }
  | { verified: false; domain: Domain; found: string[] };

/**
 * Looks the challenge record up and marks the domain verified when it holds the token. An
 * attempt is audited either way; a domain verified before stays verified.
 */
export async function verifyDomain(
  db: Database,
  domain: Domain,
  secret: string,
  resolve: TxtResolver,
  audit: Audit,
): Promise<VerifyOutcome> {
  const record = await verificationRecord(secret, domain);
  const found = await resolve(record.name);
  const matches = found.some((text) => text.trim() === record.value);
  return db.transaction(async (tx) => {
    let row = domain;
    if (matches && !domain.verifiedAt) {
      const [updated] = await tx
        .update(domains)
        .set({ verifiedAt: new Date() })
        .where(eq(domains.id, domain.id))
        .returning();
      row = updated ?? domain;
    }
    await audit(tx, {
      action: 'domain.verification_checked',
      targetType: 'domain',
      targetId: domain.id,
      result: matches ? 'success' : 'failure',
      metadata: { hostname: domain.hostname, records_found: found.length },
    });
    return matches ? { verified: true, domain: row } : { verified: false, domain: row, found };
  });
}
