import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { QueryRunner } from 'typeorm';
import {
  CaseAccessFacts,
  caseScopeSql,
  caseVisibility,
  ItemAccessFacts,
  itemScopeSql,
  itemVisibility,
} from '../../src/access-control/case-access-policy';
import { accessFactsOf, CASE_SELECT, CaseRow } from '../../src/access-control/case-file-transaction';
import { ItemHandling, TeamRole } from '../../src/access-control/handling';
import { Region, Role } from '../../src/access-control/role';
import { Principal } from '../../src/auth/principal';
import { compartmentsOfRecords } from '../../src/compartments/compartment-facts';
import { createTestApp, createUser, partyIdOf, TestApp, TestUser } from '../support/app';

/*
 * The list queries filter with `caseScopeSql` / `itemScopeSql`; single records are decided by
 * `caseVisibility` / `itemVisibility`. If the two ever disagree, a list shows what a read refuses
 * (or hides what it allows). This test writes case files straight into the database and checks,
 * for every kind of caller, that the SQL returns exactly the rows the pure functions allow.
 *
 * Every world is written inside a transaction that is rolled back, so nothing here is seen by
 * the other end-to-end tests; references are CH-2099-1xxxx, clear of anything real.
 */

/** The people in every world, by index. */
const PEOPLE: ReadonlyArray<{ key: string; role: Role; region?: Region; party?: 'labour' | 'conservative' }> = [
  { key: 'officer1', role: Role.ClearingHouseOfficer },
  { key: 'officer2', role: Role.ClearingHouseOfficer },
  { key: 'manager', role: Role.ClearingHouseManager },
  { key: 'manager2', role: Role.ClearingHouseManager },
  { key: 'riepNE1', role: Role.RiepFacilitator, region: Region.NorthEast },
  { key: 'riepNE2', role: Role.RiepFacilitator, region: Region.NorthEast },
  { key: 'riepLondon', role: Role.RiepFacilitator, region: Region.London },
  { key: 'peerLabour1', role: Role.LeadPoliticalPeer, party: 'labour' },
  { key: 'peerLabour2', role: Role.LeadPoliticalPeer, party: 'labour' },
  { key: 'peerConservative', role: Role.LeadPoliticalPeer, party: 'conservative' },
  { key: 'auditor', role: Role.Auditor },
  { key: 'administrator', role: Role.Administrator },
  { key: 'liaison', role: Role.GovernmentLiaison },
];
const person = (key: string) => PEOPLE.findIndex((p) => p.key === key);

/** Authorities by region; null is the register's authorities that have no region. */
const AUTHORITY_REGIONS: ReadonlyArray<Region | null> = [Region.NorthEast, Region.London, Region.WestMidlands, null];
const PARTIES = ['labour', 'conservative', 'green'] as const;

type TeamEntry = { who: number; teamRole: TeamRole; membership: 'active' | 'removed' | 'removed_then_active' };
/** A record in a compartment (src/compartments): its peer, the staff named on it now, and staff taken off it. */
type CompartmentSpec = { peer: number; staff: number[]; removedStaff?: number[] };
type ConversationSpec = { handling: ItemHandling; party: number; named: number[]; stranger: boolean; compartment?: CompartmentSpec };
type ConcernSpec = { handling: ItemHandling.Normal | ItemHandling.NamedOnly; named: number[]; stranger: boolean };
type GrantSpec = { who: number; expired: boolean };
interface CaseSpec {
  authority: number;
  referred: boolean;
  team: TeamEntry[];
  conversations: ConversationSpec[];
  concerns: ConcernSpec[];
  /** Restricted to its team by this person (index), or not restricted. */
  restrictedBy?: number | null;
  /** Break-glass grants on the case. */
  grants?: GrantSpec[];
  /** People with a current recusal from the case, and people whose recusal a manager withdrew (src/conflicts). */
  recused?: number[];
  withdrawnRecusals?: number[];
}

describe('the access policy in SQL agrees with the pure access policy', () => {
  let t: TestApp;
  let users: TestUser[];
  let principals: Array<{ label: string; p: Principal }>;
  let authorityIds: string[];
  let partyIds: Record<(typeof PARTIES)[number], string>;
  let counter = 0;

  beforeAll(async () => {
    t = await createTestApp();
    partyIds = {
      labour: await partyIdOf(t.ds, 'Labour'),
      conservative: await partyIdOf(t.ds, 'Conservative'),
      green: await partyIdOf(t.ds, 'Green Party'),
    };
    users = [];
    for (const spec of PEOPLE) {
      users.push(await createUser(t.ds, spec.role, { region: spec.region, partyId: spec.party ? partyIds[spec.party] : undefined }));
    }
    authorityIds = [];
    for (const region of AUTHORITY_REGIONS) {
      const [row] = await t.ds.query(`SELECT id FROM authorities WHERE region IS NOT DISTINCT FROM $1 ORDER BY code LIMIT 1`, [region]);
      expect(row).toBeDefined();
      authorityIds.push(row.id);
    }
    const asPrincipal = (u: TestUser, overrides: Partial<Principal> = {}): Principal => ({
      userId: u.id,
      sessionId: randomUUID(),
      email: u.email,
      displayName: u.email,
      role: u.role,
      region: u.region,
      partyId: u.partyId,
      ...overrides,
    });
    principals = PEOPLE.map((spec, i) => ({ label: spec.key, p: asPrincipal(users[i]) }));
    // Callers the schema would not produce, to show that the SQL fails closed exactly where the pure rule does.
    principals.push({ label: 'riepNE1 without a region', p: asPrincipal(users[person('riepNE1')], { region: null }) });
    principals.push({ label: 'peerLabour1 without a party', p: asPrincipal(users[person('peerLabour1')], { partyId: null }) });
    principals.push({ label: 'a RIEP facilitator who is no user', p: asPrincipal(users[person('riepNE1')], { userId: randomUUID() }) });
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Writes the world, runs `check` against it on the same connection, then rolls it all back. */
  async function inWorld<T>(specs: CaseSpec[], check: (q: QueryRunner, caseIds: string[]) => Promise<T>): Promise<T> {
    const q = t.owner.createQueryRunner(); // the owner: row-level security would show the service role nothing outside a request
    await q.connect();
    await q.startTransaction();
    try {
      const managerId = users[person('manager')].id;
      const officerId = users[person('officer1')].id;
      const caseIds: string[] = [];
      for (const spec of specs) {
        counter += 1;
        const reference = `CH-2099-${10000 + counter}`;
        const restrictedBy = spec.restrictedBy === undefined || spec.restrictedBy === null ? null : users[spec.restrictedBy].id;
        const [row] = await q.query(
          `INSERT INTO cases (reference, authority_id, state, handling, referred_to_riep_at, opened_by, restricted_to_team, restricted_by, restricted_at)
           VALUES ($1, $2, 'triage', 'official', $3, $4, $5, $6, CASE WHEN $5 THEN now() END) RETURNING id`,
          [reference, authorityIds[spec.authority], spec.referred ? new Date('2099-01-02T10:00:00Z') : null, managerId, restrictedBy !== null, restrictedBy],
        );
        caseIds.push(row.id);
        for (const g of spec.grants ?? []) {
          // Far from now either way, so that the database's clock and this process's agree.
          await q.query(
            `INSERT INTO break_glass_grants (case_id, user_id, reason, granted_at, expires_at)
             VALUES ($1, $2, 'A reason long enough for the schema', now() - interval '2 hours', now() + ($3::int * interval '1 hour'))`,
            [row.id, users[g.who].id, g.expired ? -1 : 1],
          );
        }
        for (const who of spec.recused ?? []) {
          await q.query(`INSERT INTO case_recusals (case_id, user_id, reason) VALUES ($1, $2, 'A recusal')`, [row.id, users[who].id]);
        }
        for (const who of spec.withdrawnRecusals ?? []) {
          const by = who === person('manager') ? users[person('manager2')].id : managerId;
          await q.query(
            `INSERT INTO case_recusals (case_id, user_id, withdrawn_at, withdrawn_by, withdraw_reason) VALUES ($1, $2, now(), $3, 'Withdrawn by a manager')`,
            [row.id, users[who].id, by],
          );
        }
        for (const m of spec.team) {
          const userId = users[m.who].id;
          if (m.membership !== 'active') {
            await q.query(
              `INSERT INTO case_team_members (case_id, user_id, team_role, added_by, removed_by, removed_at) VALUES ($1, $2, $3, $4, $4, now())`,
              [row.id, userId, m.teamRole, managerId],
            );
          }
          if (m.membership !== 'removed') {
            await q.query(`INSERT INTO case_team_members (case_id, user_id, team_role, added_by) VALUES ($1, $2, $3, $4)`, [row.id, userId, m.teamRole, managerId]);
          }
        }
        const namedIds = (named: number[], stranger: boolean) => [...named.map((i) => users[i].id), ...(stranger ? [randomUUID()] : [])];
        for (const c of spec.conversations) {
          const recordId = randomUUID();
          if (c.compartment) await placeInCompartment(q, row.id, recordId, c.compartment);
          await q.query(
            `INSERT INTO conversation_records (record_id, version, case_id, kind, held_on, summary, handling, party_id, named_user_ids, recorded_by)
             VALUES ($1, 1, $2, 'sensitive_conversation', '2099-01-03', 'A conversation', $3, $4, $5::uuid[], $6)`,
            [
              recordId,
              row.id,
              c.handling,
              c.handling === ItemHandling.PartyConfidential ? partyIds[PARTIES[c.party]] : null,
              c.handling === ItemHandling.NamedOnly ? namedIds(c.named, c.stranger) : [],
              officerId,
            ],
          );
        }
        for (const c of spec.concerns) {
          await q.query(
            `INSERT INTO concerns (case_id, received_on, channel, area, description, handling, named_user_ids, logged_by)
             VALUES ($1, '2099-01-01', 'sector_intelligence', 'finance', 'A concern', $2, $3::uuid[], $4)`,
            [row.id, c.handling, c.handling === ItemHandling.NamedOnly ? namedIds(c.named, c.stranger) : [], officerId],
          );
        }
      }
      return await check(q, caseIds);
    } finally {
      await q.rollbackTransaction();
      await q.release();
    }
  }

  /** One compartment per peer per case, as the service keeps them. */
  async function placeInCompartment(q: QueryRunner, caseId: string, recordId: string, k: CompartmentSpec): Promise<void> {
    const peerId = users[k.peer].id;
    await q.query(`INSERT INTO case_compartments (case_id, peer_id) VALUES ($1, $2) ON CONFLICT (case_id, peer_id) DO NOTHING`, [caseId, peerId]);
    const [{ id }] = await q.query(`SELECT id FROM case_compartments WHERE case_id = $1 AND peer_id = $2`, [caseId, peerId]);
    for (const who of k.staff) {
      await q.query(
        `INSERT INTO compartment_staff (compartment_id, case_id, user_id, added_by) SELECT $1, $2, $3, $4
          WHERE NOT EXISTS (SELECT 1 FROM compartment_staff WHERE compartment_id = $1 AND user_id = $3 AND removed_at IS NULL)`,
        [id, caseId, users[who].id, peerId]);
    }
    for (const who of k.removedStaff ?? []) {
      await q.query(`INSERT INTO compartment_staff (compartment_id, case_id, user_id, added_by, removed_by, removed_at) VALUES ($1, $2, $3, $4, $4, now())`, [id, caseId, users[who].id, peerId]);
    }
    await q.query(`INSERT INTO compartment_records (record_id, compartment_id, case_id, placed_by) VALUES ($1, $2, $3, $4)`, [recordId, id, caseId, peerId]);
  }

  interface Agreement {
    label: string;
    what: string;
    sql: string[];
    pure: string[];
  }

  /** For every caller: the ids the SQL returns and the ids the pure functions allow, over the same rows. */
  async function compare(q: QueryRunner, caseIds: string[]): Promise<Agreement[]> {
    const caseRows: Array<{ id: string; region: Region | null; referred_to_riep_at: Date | null; restricted_to_team: boolean; restricted_by: string | null }> = await q.query(
      `SELECT c.id, a.region, c.referred_to_riep_at, c.restricted_to_team, c.restricted_by FROM cases c JOIN authorities a ON a.id = c.authority_id WHERE c.id = ANY($1::uuid[])`,
      [caseIds],
    );
    const grantRows: Array<{ case_id: string; user_id: string; expires_at: Date }> = await q.query(
      `SELECT case_id, user_id, expires_at FROM break_glass_grants WHERE case_id = ANY($1::uuid[])`,
      [caseIds],
    );
    const recusalRows: Array<{ case_id: string; user_id: string; withdrawn_at: Date | null }> = await q.query(
      `SELECT case_id, user_id, withdrawn_at FROM case_recusals WHERE case_id = ANY($1::uuid[])`,
      [caseIds],
    );
    const teamRows: Array<{ case_id: string; user_id: string; team_role: TeamRole; removed_at: Date | null }> = await q.query(
      `SELECT case_id, user_id, team_role, removed_at FROM case_team_members WHERE case_id = ANY($1::uuid[])`,
      [caseIds],
    );
    // The current team is the members not removed: removal keeps the row for the record.
    const caseFacts = new Map<string, CaseAccessFacts>(
      caseRows.map((r) => [
        r.id,
        {
          authorityRegion: r.region,
          referredToRiepAt: r.referred_to_riep_at,
          team: teamRows.filter((m) => m.case_id === r.id && m.removed_at === null).map((m) => ({ userId: m.user_id, teamRole: m.team_role })),
          restrictedToTeam: r.restricted_to_team,
          restrictedBy: r.restricted_by,
          // Every grant, expired or not: the pure rule decides which still count.
          breakGlassGrants: grantRows.filter((g) => g.case_id === r.id).map((g) => ({ userId: g.user_id, expiresAt: g.expires_at })),
          // A withdrawn recusal no longer counts.
          recusedUserIds: recusalRows.filter((x) => x.case_id === r.id && x.withdrawn_at === null).map((x) => x.user_id),
        },
      ]),
    );
    // The facts the service itself loads for a single case must decide the same way.
    const serviceRows: CaseRow[] = await q.query(`${CASE_SELECT} WHERE c.id = ANY($1::uuid[])`, [caseIds]);
    const serviceFacts = new Map(serviceRows.map((r) => [r.id, accessFactsOf(r)]));

    const itemFacts = async (table: 'conversation_records' | 'concerns'): Promise<Array<{ id: string } & ItemAccessFacts>> => {
      const rows: Array<{ id: string; record_id: string | null; handling: ItemHandling; party_id: string | null; named_user_ids: string[] }> = await q.query(
        `SELECT id, ${table === 'conversation_records' ? 'record_id, party_id' : 'NULL::uuid AS record_id, NULL::uuid AS party_id'}, handling, named_user_ids
           FROM ${table} WHERE case_id = ANY($1::uuid[])`,
        [caseIds],
      );
      // The compartments the service loads for a record (src/compartments/compartment-facts.ts).
      const compartments = await compartmentsOfRecords(q.manager, rows.flatMap((r) => (r.record_id ? [r.record_id] : [])));
      return rows.map((r) => {
        expect(Array.isArray(r.named_user_ids)).toBe(true);
        return { id: r.id, handling: r.handling, partyId: r.party_id, namedUserIds: r.named_user_ids, compartment: r.record_id ? (compartments.get(r.record_id) ?? null) : null };
      });
    };
    const conversations = await itemFacts('conversation_records');
    const concerns = await itemFacts('concerns');

    const sorted = (ids: Iterable<string>) => [...ids].sort();
    const results: Agreement[] = [];
    for (const { label, p } of principals) {
      const cs = caseScopeSql(p, 2);
      const visibleCases: Array<{ id: string }> = await q.query(
        `SELECT c.id FROM cases c JOIN authorities a ON a.id = c.authority_id
          WHERE c.id = ANY($1::uuid[]) AND c.reference LIKE 'CH-2099-%' AND ${cs.sql}`,
        [caseIds, ...cs.params],
      );
      const pureCases = caseIds.filter((id) => caseVisibility(p, caseFacts.get(id)!).allowed);
      results.push({ label, what: 'cases', sql: sorted(visibleCases.map((r) => r.id)), pure: sorted(pureCases) });
      results.push({
        label,
        what: 'cases (service facts)',
        sql: sorted(visibleCases.map((r) => r.id)),
        pure: sorted(caseIds.filter((id) => caseVisibility(p, serviceFacts.get(id)!).allowed)),
      });

      for (const [table, items, partyMarking] of [
        ['conversation_records', conversations, true],
        ['concerns', concerns, false],
      ] as const) {
        const is = itemScopeSql(p, 2, { partyMarking });
        const visibleItems: Array<{ id: string }> = await q.query(`SELECT i.id FROM ${table} i WHERE i.case_id = ANY($1::uuid[]) AND ${is.sql}`, [
          caseIds,
          ...is.params,
        ]);
        results.push({
          label,
          what: table,
          sql: sorted(visibleItems.map((r) => r.id)),
          pure: sorted(items.filter((i) => itemVisibility(p, i).allowed).map((i) => i.id)),
        });
      }
    }
    return results;
  }

  const expectAgreement = (results: Agreement[]) => {
    for (const r of results) expect({ caller: r.label, what: r.what, ids: r.sql }).toEqual({ caller: r.label, what: r.what, ids: r.pure });
  };

  it('agrees on every combination of region, referral and team membership, and every item marking', async () => {
    const teams: TeamEntry[][] = [
      [],
      [{ who: person('riepNE1'), teamRole: TeamRole.RiepFacilitator, membership: 'active' }],
      [{ who: person('riepNE1'), teamRole: TeamRole.RiepFacilitator, membership: 'removed' }],
      [{ who: person('riepNE1'), teamRole: TeamRole.RiepFacilitator, membership: 'removed_then_active' }],
      [{ who: person('peerLabour1'), teamRole: TeamRole.LeadPoliticalPeer, membership: 'active' }],
      [{ who: person('peerLabour1'), teamRole: TeamRole.LeadPoliticalPeer, membership: 'removed' }],
      [
        { who: person('officer1'), teamRole: TeamRole.CaseLead, membership: 'active' },
        { who: person('riepLondon'), teamRole: TeamRole.RiepFacilitator, membership: 'active' },
        { who: person('auditor'), teamRole: TeamRole.CaseOfficer, membership: 'active' },
      ],
    ];
    const specs: CaseSpec[] = [];
    for (let authority = 0; authority < AUTHORITY_REGIONS.length; authority++) {
      for (const referred of [false, true]) {
        for (const team of teams) specs.push({ authority, referred, team, conversations: [], concerns: [] });
      }
    }
    specs[0].conversations = [
      { handling: ItemHandling.Normal, party: 0, named: [], stranger: false },
      { handling: ItemHandling.NamedOnly, party: 0, named: [person('officer1')], stranger: false },
      { handling: ItemHandling.NamedOnly, party: 0, named: [person('riepNE1'), person('peerLabour1')], stranger: false },
      { handling: ItemHandling.NamedOnly, party: 0, named: [], stranger: true },
      ...PARTIES.map((_, party) => ({ handling: ItemHandling.PartyConfidential, party, named: [], stranger: false })),
    ];
    specs[0].concerns = [
      { handling: ItemHandling.Normal, named: [], stranger: false },
      { handling: ItemHandling.NamedOnly, named: [person('officer1')], stranger: false },
      { handling: ItemHandling.NamedOnly, named: [person('riepNE2'), person('peerConservative')], stranger: false },
      { handling: ItemHandling.NamedOnly, named: [], stranger: true },
    ];

    const results = await inWorld(specs, compare);
    expectAgreement(results);

    // The world is not degenerate: it separates who sees what.
    const seen = (label: string, what: string) => results.find((r) => r.label === label && r.what === what)!.pure.length;
    expect(seen('officer1', 'cases')).toBe(specs.length);
    expect(seen('auditor', 'cases')).toBe(0);
    // North East referred cases (7) plus the unreferred ones riepNE1 is currently on (2).
    expect(seen('riepNE1', 'cases')).toBe(9);
    expect(seen('riepNE2', 'cases')).toBe(7);
    expect(seen('riepLondon', 'cases')).toBe(8);
    // peerLabour1 is currently on one team per authority and referral: 4 x 2.
    expect(seen('peerLabour1', 'cases')).toBe(8);
    expect(seen('peerLabour2', 'cases')).toBe(0);
    expect(seen('manager', 'conversation_records')).toBe(7);
    expect(seen('officer1', 'conversation_records')).toBe(2);
    expect(seen('officer2', 'conversation_records')).toBe(1);
    expect(seen('peerLabour1', 'conversation_records')).toBe(3);
    expect(seen('peerConservative', 'conversation_records')).toBe(2);
    expect(seen('riepNE1', 'conversation_records')).toBe(2);
    expect(seen('peerConservative', 'concerns')).toBe(2);
    expect(seen('officer2', 'concerns')).toBe(1);
    expect(seen('manager', 'concerns')).toBe(4);
  });

  it('agrees on compartments: only their peer and the staff named on them now, whatever the marking', async () => {
    const compartment: CompartmentSpec = { peer: person('peerLabour1'), staff: [person('officer1'), person('manager2')], removedStaff: [person('officer2')] };
    const specs: CaseSpec[] = [
      {
        authority: 0, referred: true, concerns: [],
        team: [{ who: person('peerLabour1'), teamRole: TeamRole.LeadPoliticalPeer, membership: 'active' }],
        conversations: [
          { handling: ItemHandling.Normal, party: 0, named: [], stranger: false, compartment },
          { handling: ItemHandling.PartyConfidential, party: 0, named: [], stranger: false, compartment },
          { handling: ItemHandling.NamedOnly, party: 0, named: [person('officer2')], stranger: false, compartment },
          { handling: ItemHandling.Normal, party: 0, named: [], stranger: false },
        ],
      },
    ];
    const results = await inWorld(specs, compare);
    expectAgreement(results);

    const seen = (label: string) => results.find((r) => r.label === label && r.what === 'conversation_records')!.pure.length;
    expect(seen('manager')).toBe(1); // not named: only the record outside the compartment
    expect(seen('manager2')).toBe(4); // named: every marking a manager reads
    expect(seen('officer1')).toBe(2); // named: the normal ones
    expect(seen('officer2')).toBe(1); // taken off it: even the named-only record naming them is gone
    expect(seen('peerLabour1')).toBe(3); // its peer: all but the named-only record that does not name them
    expect(seen('peerLabour2')).toBe(1); // same party, not its peer
    expect(seen('liaison')).toBe(1); // (item marking alone; no case is visible to a liaison)
    expect(results.filter((r) => r.label === 'liaison' && r.what === 'cases').every((r) => r.pure.length === 0)).toBe(true);
  });

  it('agrees on cases restricted to their team, with break-glass grants live and expired', async () => {
    const teams: TeamEntry[][] = [
      [],
      [{ who: person('officer1'), teamRole: TeamRole.CaseOfficer, membership: 'active' }],
      [{ who: person('officer1'), teamRole: TeamRole.CaseOfficer, membership: 'removed' }],
      [{ who: person('riepNE1'), teamRole: TeamRole.RiepFacilitator, membership: 'active' }],
      [{ who: person('peerLabour1'), teamRole: TeamRole.LeadPoliticalPeer, membership: 'active' }],
      [{ who: person('manager2'), teamRole: TeamRole.CaseLead, membership: 'active' }],
    ];
    const grantSets: GrantSpec[][] = [
      [],
      [{ who: person('manager2'), expired: false }],
      [{ who: person('manager2'), expired: true }],
      // Grants to people break-glass is not for change nothing.
      [{ who: person('officer2'), expired: false }, { who: person('peerLabour2'), expired: false }],
    ];
    const specs: CaseSpec[] = [];
    for (const restrictedBy of [null, person('manager'), person('manager2')]) {
      for (const team of teams) {
        for (const grants of grantSets) specs.push({ authority: 0, referred: true, team, conversations: [], concerns: [], restrictedBy, grants });
      }
    }
    const results = await inWorld(specs, compare);
    expectAgreement(results);

    const seen = (label: string) => results.find((r) => r.label === label && r.what === 'cases')!.pure.length;
    const perRestriction = teams.length * grantSets.length; // 24 cases per setting of restrictedBy
    // manager restricted 24 (sees them: the setter) and manager2 restricted 24 (manager sees those only when on the team: never here).
    expect(seen('manager')).toBe(perRestriction * 2);
    // manager2: everything unrestricted, all it restricted, and of manager's: its team (4) and its live grants (6, one of which is also the team).
    expect(seen('manager2')).toBe(perRestriction * 2 + grantSets.length + teams.length - 1);
    // officer1: unrestricted, plus the restricted ones it is on the team of (4 grant sets x 2 restrictions).
    expect(seen('officer1')).toBe(perRestriction + 2 * grantSets.length);
    expect(seen('officer2')).toBe(perRestriction);
    // riepNE1 (all cases are referred North East ones): unrestricted, and restricted ones when on the team.
    expect(seen('riepNE1')).toBe(perRestriction + 2 * grantSets.length);
  });

  it('agrees on recusals: a recused user sees nothing of the case, whatever else would let them; a withdrawn recusal counts for nothing', async () => {
    const teams: TeamEntry[][] = [
      [],
      [{ who: person('peerLabour1'), teamRole: TeamRole.LeadPoliticalPeer, membership: 'active' }],
      [{ who: person('riepNE1'), teamRole: TeamRole.RiepFacilitator, membership: 'active' }],
      [{ who: person('officer1'), teamRole: TeamRole.CaseLead, membership: 'active' }],
    ];
    const recusals: Array<Pick<CaseSpec, 'recused' | 'withdrawnRecusals'>> = [
      {},
      { recused: [person('officer1'), person('manager')] },
      { recused: [person('riepNE1'), person('peerLabour1')] },
      { withdrawnRecusals: [person('officer1'), person('peerLabour1'), person('manager')] },
      { recused: [person('manager2')], withdrawnRecusals: [person('manager2'), person('riepNE1')] },
    ];
    const specs: CaseSpec[] = [];
    for (const restrictedBy of [null, person('manager')]) {
      for (const team of teams) {
        for (const r of recusals) {
          specs.push({ authority: 0, referred: true, team, conversations: [], concerns: [], restrictedBy, grants: [{ who: person('manager2'), expired: false }], ...r });
        }
      }
    }
    const results = await inWorld(specs, compare);
    expectAgreement(results);

    const seen = (label: string) => results.find((r) => r.label === label && r.what === 'cases')!.pure.length;
    const perRestriction = teams.length * recusals.length; // 20
    // officer1: every unrestricted case but the 4 it is recused from; restricted ones only where on the team (5), less the 1 recused there.
    expect(seen('officer1')).toBe(perRestriction - teams.length + recusals.length - 1);
    // manager restricted half of them (sees all it restricted) and is recused from 4 of each half.
    expect(seen('manager')).toBe(2 * (perRestriction - teams.length));
    // manager2 holds a live grant everywhere, and a recusal from 4 of each half that the grant does not beat.
    expect(seen('manager2')).toBe(2 * (perRestriction - teams.length));
    // peerLabour1: on 5 teams of each half, recused from one of them in each.
    expect(seen('peerLabour1')).toBe(2 * (recusals.length - 1));
  });

  it('agrees on random case files for every kind of caller', async () => {
    const who = fc.integer({ min: 0, max: PEOPLE.length - 1 });
    const named = fc.uniqueArray(who, { maxLength: 3 });
    const teamArb = fc.uniqueArray(
      fc.record({
        who,
        teamRole: fc.constantFrom(...Object.values(TeamRole)),
        membership: fc.constantFrom<TeamEntry['membership']>('active', 'removed', 'removed_then_active'),
      }),
      { selector: (m) => m.who, maxLength: 4 },
    );
    // A named-only item always names someone (the schema insists).
    const namedOnly = <T extends { handling: ItemHandling; named: number[]; stranger: boolean }>(i: T): T =>
      i.handling === ItemHandling.NamedOnly && i.named.length === 0 && !i.stranger ? { ...i, stranger: true } : i;
    const conversationArb: fc.Arbitrary<ConversationSpec> = fc
      .record({ handling: fc.constantFrom(...Object.values(ItemHandling)), party: fc.integer({ min: 0, max: PARTIES.length - 1 }), named, stranger: fc.boolean() })
      .map(namedOnly);
    const concernArb: fc.Arbitrary<ConcernSpec> = fc
      .record({ handling: fc.constantFrom(ItemHandling.Normal as const, ItemHandling.NamedOnly as const), named, stranger: fc.boolean() })
      .map(namedOnly);
    const managers = [person('manager'), person('manager2')];
    const caseArb: fc.Arbitrary<CaseSpec> = fc.record({
      authority: fc.integer({ min: 0, max: AUTHORITY_REGIONS.length - 1 }),
      referred: fc.boolean(),
      team: teamArb,
      conversations: fc.array(conversationArb, { maxLength: 4 }),
      concerns: fc.array(concernArb, { maxLength: 3 }),
      restrictedBy: fc.option(fc.constantFrom(...managers), { nil: null }),
      grants: fc.uniqueArray(fc.record({ who, expired: fc.boolean() }), { selector: (g) => g.who, maxLength: 3 }),
      recused: fc.uniqueArray(who, { maxLength: 2 }),
      withdrawnRecusals: fc.uniqueArray(who, { maxLength: 2 }),
    });

    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: 6 }), async (specs) => {
        expectAgreement(await inWorld(specs, compare));
      }),
      { numRuns: 30 },
    );
  });
});
