import { Injectable } from '@nestjs/common';
import { CaseAction } from '../access-control/case-access-policy';
import { CaseFileTransactions, CaseFileTx } from '../access-control/case-file-transaction';
import { Role } from '../access-control/role';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { Actor } from '../auth/actor.decorator';
import { iso } from '../cases/case-mappers';
import { ForbiddenError, PreconditionFailedError, ValidationError } from '../common/domain-error';
import { compartmentVisibility, mayBeNamedOnCompartment, mayManageCompartment, mayPlaceRecord } from './compartment-policy';
import { CompartmentDto } from './dto';

interface CompartmentRow {
  id: string;
  case_id: string;
  peer_id: string;
  created_at: Date;
  staff: Array<{ userId: string; displayName: string; addedAt: string }>;
  record_ids: string[];
}

const SELECT = `
  SELECT k.id, k.case_id, k.peer_id, k.created_at,
         coalesce((SELECT jsonb_agg(jsonb_build_object('userId', s.user_id, 'displayName', u.display_name, 'addedAt', s.added_at) ORDER BY s.added_at)
                     FROM compartment_staff s JOIN users u ON u.id = s.user_id WHERE s.compartment_id = k.id AND s.removed_at IS NULL), '[]') AS staff,
         coalesce((SELECT array_agg(cr.record_id ORDER BY cr.placed_at) FROM compartment_records cr WHERE cr.compartment_id = k.id), '{}') AS record_ids
    FROM case_compartments k`;

function toDto(r: CompartmentRow): CompartmentDto {
  return {
    id: r.id, caseId: r.case_id, peerId: r.peer_id, createdAt: iso(r.created_at)!,
    staff: r.staff.map((s) => ({ ...s, addedAt: new Date(s.addedAt).toISOString() })), recordIds: r.record_ids,
  };
}

/**
 * Compartments inside a case (src/compartments/compartment-policy.ts). Only the peer whose
 * compartment it is opens and changes it; only those inside it learn that it exists: to anyone
 * else a compartment answers exactly as one that does not exist, and a case's list of
 * compartments is empty.
 */
@Injectable()
export class CompartmentsService {
  constructor(private readonly transactions: CaseFileTransactions) {}

  /** The caller's compartment on the case (opened now, or the one they already have), with the staff they name. */
  open(actor: Actor, caseId: string, staffIds: string[]): Promise<CompartmentDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.RecordConversation, { lock: true, resourceType: ResourceType.Compartment, auditAction: AuditAction.ChangeCompartment });
      if (actor.principal.role !== Role.LeadPoliticalPeer) {
        tx.refuse(new ForbiddenError('Only a lead political peer on the case team opens a compartment'), {
          action: AuditAction.ChangeCompartment, resourceType: ResourceType.Compartment, caseId: row.id, rule: 'compartment_peer_only',
        });
      }
      await this.assertStaff(tx, staffIds);
      const [created]: Array<{ id: string }> = await tx.manager.query(
        `INSERT INTO case_compartments (case_id, peer_id) VALUES ($1, $2) ON CONFLICT (case_id, peer_id) DO NOTHING RETURNING id`, [row.id, actor.userId]);
      const [{ id }]: Array<{ id: string }> = created ? [created] : await tx.manager.query(`SELECT id FROM case_compartments WHERE case_id = $1 AND peer_id = $2`, [row.id, actor.userId]);
      if (created) tx.audit({ action: AuditAction.ChangeCompartment, resourceType: ResourceType.Compartment, resourceId: id, caseId: row.id, rule: 'open' });
      for (const userId of staffIds) await this.addStaff(tx, id, row.id, userId);
      return this.load(tx, id);
    });
  }

  /** The compartments of the case the caller is inside (for anyone else: none, as for a case without any). */
  list(actor: Actor, caseId: string): Promise<CompartmentDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.Compartment, auditAction: AuditAction.List });
      const rows: CompartmentRow[] = await tx.manager.query(`${SELECT} WHERE k.case_id = $1 ORDER BY k.created_at, k.id`, [row.id]);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Compartment, caseId: row.id });
      return rows.filter((r) => compartmentVisibility(actor.principal, this.facts(r)).allowed).map(toDto);
    });
  }

  get(actor: Actor, id: string): Promise<CompartmentDto> {
    return this.transactions.run(actor, async (tx) => {
      const k = await this.openCompartment(tx, id, CaseAction.Read, AuditAction.Read);
      tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Compartment, resourceId: id, caseId: k.case_id });
      return toDto(k);
    });
  }

  nameStaff(actor: Actor, id: string, userId: string): Promise<CompartmentDto> {
    return this.transactions.run(actor, async (tx) => {
      const k = await this.openCompartment(tx, id, CaseAction.RecordConversation, AuditAction.ChangeCompartment, true);
      await this.assertStaff(tx, [userId]);
      await this.addStaff(tx, id, k.case_id, userId);
      return this.load(tx, id);
    });
  }

  /** Takes a colleague out of the compartment: they lose sight of its records at once. */
  removeStaff(actor: Actor, id: string, userId: string): Promise<CompartmentDto> {
    return this.transactions.run(actor, async (tx) => {
      const k = await this.openCompartment(tx, id, CaseAction.RecordConversation, AuditAction.ChangeCompartment, true);
      const [[removed]]: [unknown[], number] = await tx.manager.query(
        `UPDATE compartment_staff SET removed_at = now(), removed_by = $3 WHERE compartment_id = $1 AND user_id = $2 AND removed_at IS NULL RETURNING id`,
        [id, userId, actor.userId]);
      if (!removed) throw new PreconditionFailedError('That user is not named on this compartment', { precondition: 'named_on_compartment' });
      tx.audit({ action: AuditAction.ChangeCompartment, resourceType: ResourceType.Compartment, resourceId: id, caseId: k.case_id, rule: `remove_staff:${userId}` });
      return this.load(tx, id);
    });
  }

  /** Places one of the peer's own conversation records of the case in their compartment. */
  place(actor: Actor, id: string, recordId: string): Promise<CompartmentDto> {
    return this.transactions.run(actor, async (tx) => {
      const k = await this.openCompartment(tx, id, CaseAction.RecordConversation, AuditAction.PlaceInCompartment, true);
      await placeRecord(tx, { id, caseId: k.case_id, peerId: k.peer_id }, recordId);
      return this.load(tx, id);
    });
  }

  private facts(r: CompartmentRow) {
    return { peerId: r.peer_id, staffIds: r.staff.map((s) => s.userId) };
  }

  private async load(tx: CaseFileTx, id: string): Promise<CompartmentDto> {
    const [k]: CompartmentRow[] = await tx.manager.query(`${SELECT} WHERE k.id = $1`, [id]);
    return toDto(k);
  }

  /**
   * A compartment the caller is inside (and, to change it, whose peer they are). Anyone else gets
   * exactly the answer for a compartment that does not exist.
   */
  private async openCompartment(tx: CaseFileTx, id: string, action: CaseAction, auditAction: AuditAction, manage = false): Promise<CompartmentRow> {
    const [k]: CompartmentRow[] = await tx.manager.query(`${SELECT} WHERE k.id = $1`, [id]);
    if (!k) return tx.refuseHiddenItem(ResourceType.Compartment, id, null, 'compartment_not_found', auditAction);
    await tx.openCase(k.case_id, action, { lock: action !== CaseAction.Read, resourceType: ResourceType.Compartment, auditAction, hiddenAs: ResourceType.Compartment });
    const inside = compartmentVisibility(tx.actor.principal, this.facts(k));
    if (!inside.allowed) tx.refuseHiddenItem(ResourceType.Compartment, id, k.case_id, inside.rule, auditAction);
    if (manage && !mayManageCompartment(tx.actor.principal, this.facts(k))) {
      tx.refuse(new ForbiddenError('Only the peer whose compartment it is may change it'), {
        action: auditAction, resourceType: ResourceType.Compartment, resourceId: id, caseId: k.case_id, rule: 'compartment_peer_only',
      });
    }
    return k;
  }

  private async addStaff(tx: CaseFileTx, id: string, caseId: string, userId: string): Promise<void> {
    const inserted: unknown[] = await tx.manager.query(
      `INSERT INTO compartment_staff (compartment_id, case_id, user_id, added_by)
       SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM compartment_staff WHERE compartment_id = $1 AND user_id = $3 AND removed_at IS NULL)
       RETURNING id`,
      [id, caseId, userId, tx.actor.userId]);
    if (inserted.length > 0) tx.audit({ action: AuditAction.ChangeCompartment, resourceType: ResourceType.Compartment, resourceId: id, caseId, rule: `name_staff:${userId}` });
  }

  private async assertStaff(tx: CaseFileTx, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows: Array<{ role: Role }> = await tx.manager.query(`SELECT role FROM users WHERE id = ANY ($1::uuid[]) AND disabled_at IS NULL`, [ids]);
    if (rows.length !== ids.length || !rows.every((r) => mayBeNamedOnCompartment(r.role))) {
      throw new ValidationError([{ field: 'staffIds', messages: ['only active clearing-house officers and managers may be named on a compartment'] }]);
    }
  }
}

/**
 * Places a conversation record in a compartment (at its creation, or later by its peer): the
 * peer's own record of the same case only. Used by the conversations service too.
 */
export async function placeRecord(tx: CaseFileTx, k: { id: string; caseId: string; peerId: string }, recordId: string): Promise<void> {
  const [r]: Array<{ case_id: string; recorded_by: string }> = await tx.manager.query(
    `SELECT case_id, recorded_by FROM conversation_records WHERE record_id = $1 AND version = 1`, [recordId]);
  if (!r || !mayPlaceRecord(tx.actor.principal, k, { caseId: r.case_id, recordedBy: r.recorded_by })) {
    throw new ValidationError([{ field: 'recordId', messages: ['recordId must name a conversation record you recorded on this case'] }]);
  }
  const placed: unknown[] = await tx.manager.query(
    `INSERT INTO compartment_records (record_id, compartment_id, case_id, placed_by) VALUES ($1, $2, $3, $4) ON CONFLICT (record_id) DO NOTHING RETURNING record_id`,
    [recordId, k.id, k.caseId, tx.actor.userId]);
  if (placed.length === 0) throw new PreconditionFailedError('The record is already in a compartment', { precondition: 'not_in_compartment' });
  tx.audit({ action: AuditAction.PlaceInCompartment, resourceType: ResourceType.Conversation, resourceId: recordId, caseId: k.caseId });
}

/** The caller's own compartment on a case, for recording into it; null if it is not theirs or not on this case. */
export async function ownCompartment(tx: CaseFileTx, compartmentId: string, caseId: string): Promise<{ id: string; caseId: string; peerId: string } | null> {
  const [k]: Array<{ id: string; case_id: string; peer_id: string }> = await tx.manager.query(
    `SELECT id, case_id, peer_id FROM case_compartments WHERE id = $1`, [compartmentId]);
  if (!k || k.case_id !== caseId || !mayManageCompartment(tx.actor.principal, { peerId: k.peer_id })) return null;
  return { id: k.id, caseId: k.case_id, peerId: k.peer_id };
}
