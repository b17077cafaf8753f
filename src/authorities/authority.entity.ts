import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Region } from '../access-control/role';

export enum AuthorityType {
  County = 'CTY',
  NonMetropolitanDistrict = 'NMD',
  Unitary = 'UA',
  MetropolitanDistrict = 'MD',
  LondonBorough = 'LBO',
  CombinedAuthority = 'COMB',
  StrategicRegionalAuthority = 'SRA',
  CityCorporation = 'CC',
}

/** An English council (current or past), from the mySociety register. */
@Entity({ name: 'authorities' })
export class Authority {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The register's three-letter code, e.g. BIR. */
  @Column({ type: 'text', unique: true })
  code: string;

  @Column({ name: 'gss_code', type: 'text', unique: true })
  gssCode: string;

  @Column({ name: 'official_name', type: 'text' })
  officialName: string;

  @Column({ name: 'short_name', type: 'text' })
  shortName: string;

  @Column({ type: 'text' })
  type: AuthorityType;

  @Column({ name: 'type_name', type: 'text' })
  typeName: string;

  /** Null for some abolished authorities the register gives no region. */
  @Column({ type: 'text', nullable: true })
  region: Region | null;

  @Column({ name: 'start_date', type: 'date', nullable: true })
  startDate: string | null;

  @Column({ name: 'end_date', type: 'date', nullable: true })
  endDate: string | null;

  @Column({ name: 'is_current', type: 'boolean' })
  isCurrent: boolean;

  @Column({ name: 'replaced_by', type: 'text', array: true, default: () => "'{}'" })
  replacedBy: string[];
}
