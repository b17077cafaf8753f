import { EntityManager } from 'typeorm';
import { CompartmentFacts } from './compartment-policy';

/**
 * The compartments the given conversation records are in (record id → facts), for the access
 * policy's `itemVisibility`. Facts only, never content; readable by whoever may read the case.
 */
export async function compartmentsOfRecords(m: EntityManager, recordIds: readonly string[]): Promise<Map<string, CompartmentFacts>> {
  if (recordIds.length === 0) return new Map();
  const rows: Array<{ record_id: string; peer_id: string; staff_ids: string[] }> = await m.query(
    `SELECT cr.record_id, k.peer_id,
            coalesce(array_agg(s.user_id) FILTER (WHERE s.user_id IS NOT NULL), '{}') AS staff_ids
       FROM compartment_records cr JOIN case_compartments k ON k.id = cr.compartment_id
       LEFT JOIN compartment_staff s ON s.compartment_id = k.id AND s.removed_at IS NULL
      WHERE cr.record_id = ANY ($1::uuid[])
      GROUP BY cr.record_id, k.peer_id`,
    [recordIds],
  );
  return new Map(rows.map((r) => [r.record_id, { peerId: r.peer_id, staffIds: r.staff_ids }]));
}

/** The compartment of one record, or null. */
export async function compartmentOfRecord(m: EntityManager, recordId: string): Promise<CompartmentFacts | null> {
  return (await compartmentsOfRecords(m, [recordId])).get(recordId) ?? null;
}
